/* SPDX-License-Identifier: MIT */
typedef int flz_placeholder_kernels_avx2_rt;

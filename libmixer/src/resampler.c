/* SPDX-License-Identifier: MIT */
typedef int flz_placeholder_resampler;

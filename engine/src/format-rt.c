/* SPDX-License-Identifier: MIT */
typedef int flz_placeholder_format_rt;

/* SPDX-License-Identifier: MIT */
typedef int flz_placeholder_engine;

/* SPDX-License-Identifier: MIT */
/* libeq private: what eq.c and eq-rt.c share. */
#ifndef FLZ_EQ_INTERNAL_H
#define FLZ_EQ_INTERNAL_H

#include <flz/eq.h>

/* Linear gain of a band gain in dB; the caller has range-checked it.
 * FLZ_EQ_GAIN_DB_MIN is the kill: exactly 0, not 10^-3. */
double flz_eq_gain_lin(double gain_db);

/* Whether every gain is in range (NaN is not). */
bool flz_eq_gains_valid(const double gain_db[FLZ_EQ_N_BANDS]);

#endif /* FLZ_EQ_INTERNAL_H */

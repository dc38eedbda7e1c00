/* SPDX-License-Identifier: MIT */
/* A deliberately broken "real-time" object: it allocates, locks and prints.
 * The rt-symbols self-test expects the checker to reject it, which proves
 * the checker can fail. Never linked into anything. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

float *flz_bad_rt_render(unsigned n_frames);
float *flz_bad_rt_render(unsigned n_frames)
{
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_lock(&lock);
	float *block = calloc(n_frames, sizeof(float));
	printf("rendered %u frames\n", n_frames);
	pthread_mutex_unlock(&lock);
	return block;
}

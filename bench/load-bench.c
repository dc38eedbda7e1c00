/* SPDX-License-Identifier: MIT */
/*
 * Load time and peak memory of libloader (what AudioEngine.load_sample runs
 * on its control thread), for comparison with load-reference.c. See
 * load-measure.h for the command line.
 */
#include <flz/loader.h>

#include "load-measure.h"

static struct flz_sample *loaded;

static int bench_load(const char *path, uint32_t rate_hz, int64_t *n_frames, uint64_t *n_bytes)
{
	struct flz_loader_config cfg = flz_loader_config_init();
	cfg.rate_hz = rate_hz;
	cfg.n_channels = 2;
	struct flz_loader *loader = NULL;
	int err = flz_loader_new(&cfg, &loader);
	if (err == 0)
		err = flz_loader_load_file(loader, path, &loaded);
	if (err < 0) {
		fprintf(stderr, "load failed: %s (%s)\n", flz_strerror(err),
			loader ? flz_loader_strerror(loader) : "");
		flz_loader_destroy(loader);
		return err;
	}
	flz_loader_destroy(loader);
	*n_frames = loaded->n_frames;
	*n_bytes = (uint64_t)loaded->n_frames * loaded->n_channels * sizeof(float);
	return 0;
}

static void bench_release(void)
{
	flz_sample_unref(loaded);
	loaded = NULL;
}

int main(int argc, char **argv)
{
	return bench_main(argc, argv, "libloader");
}

// SPDX-License-Identifier: GPL-2.0
/*
 * anonfault: the time of anonymous write faults into sparse page tables,
 * where alloc_anon_folio() scans nested ranges for an mTHP order and
 * finds none: the shape in which calc_anonymous_folio_order() reads 256
 * PTEs where 7.3.4's loop reads 508.
 *
 * In each 2 MiB region of a private anonymous mapping, PTEs 255 and 511
 * are faulted in first with only order 0 enabled; then, with the mTHP
 * orders of the shape enabled, page 252 of every region is written: each
 * such fault scans every enabled order, finds PTE 255 in use in each
 * range and falls back to order 0.  For comparison, the same faults with
 * one order (64 KiB) enabled, where both kernels read 16 PTEs.  Medians
 * of several rounds, ns per fault, as "# METRIC" lines; the base and
 * series guests run the same binary side by side, and metrics.tsv gives
 * the ratio.  The mTHP settings are put back at exit.
 *
 *   anonfault <metric prefix>
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>

#define REGIONS		2048
#define ROUNDS		7
#define PMD_SIZE	(2UL << 20)
#define PAGE		4096UL
#define MTHP		"/sys/kernel/mm/transparent_hugepage/hugepages-%lukB/enabled"

static const unsigned long sizes_kb[] = { 16, 32, 64, 128, 256, 512, 1024 };
#define NR_SIZES (sizeof(sizes_kb) / sizeof(sizes_kb[0]))
static char saved[NR_SIZES][32];

static int set_size(unsigned long kb, const char *val)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), MTHP, kb);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(val, f);
	return fclose(f);
}

static void restore(void)
{
	unsigned int i;

	for (i = 0; i < NR_SIZES; i++)
		if (saved[i][0])
			set_size(sizes_kb[i], saved[i]);
}

static void die(int sig)
{
	(void)sig;
	exit(1);	/* runs restore() */
}

static int save(void)
{
	unsigned int i;

	for (i = 0; i < NR_SIZES; i++) {
		char path[128], buf[128], *sel;
		FILE *f;

		snprintf(path, sizeof(path), MTHP, sizes_kb[i]);
		f = fopen(path, "r");
		if (!f || !fgets(buf, sizeof(buf), f)) {
			if (f)
				fclose(f);
			return -1;
		}
		fclose(f);
		/* "always inherit [madvise] never": the bracketed one */
		sel = strchr(buf, '[');
		if (!sel || !strchr(sel, ']'))
			return -1;
		*strchr(sel, ']') = '\0';
		snprintf(saved[i], sizeof(saved[i]), "%s", sel + 1);
	}
	atexit(restore);
	signal(SIGTERM, die);
	signal(SIGINT, die);
	return 0;
}

static int enable(unsigned long mask_kb_set)
{
	unsigned int i;

	for (i = 0; i < NR_SIZES; i++)
		if (set_size(sizes_kb[i], (mask_kb_set >> i) & 1 ?
			     "always" : "never"))
			return -1;
	return 0;
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* ns per fault at page 252 of each region, orders of 'set' enabled */
static double one_round(unsigned long set)
{
	size_t len = REGIONS * PMD_SIZE;
	char *raw, *p;
	double t0, t;
	size_t r;

	raw = mmap(NULL, len + PMD_SIZE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		return -1;
	p = (char *)(((unsigned long)raw + PMD_SIZE - 1) & ~(PMD_SIZE - 1));
	if (enable(0))
		return -1;
	for (r = 0; r < REGIONS; r++) {
		p[r * PMD_SIZE + 255 * PAGE] = 1;
		p[r * PMD_SIZE + 511 * PAGE] = 1;
	}
	if (enable(set))
		return -1;
	t0 = now_ns();
	for (r = 0; r < REGIONS; r++)
		p[r * PMD_SIZE + 252 * PAGE] = 1;
	t = (now_ns() - t0) / REGIONS;
	munmap(raw, len + PMD_SIZE);
	return t;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; unsigned long set; } shapes[] = {
		{ "orders_2_to_8", 0x7f },	/* 16 KiB .. 1 MiB */
		{ "order_4_only", 0x04 },	/* 64 KiB */
	};
	const char *prefix = argc > 1 ? argv[1] : "anonfault";
	unsigned int s, i;
	int bad = 0;

	printf("TAP version 13\n1..%zu\n", sizeof(shapes) / sizeof(shapes[0]));
	if (save()) {
		printf("ok 1 # SKIP no mTHP settings to change\n");
		return 4;
	}
	for (s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
		double t[ROUNDS];

		for (i = 0; i < ROUNDS; i++) {
			t[i] = one_round(shapes[s].set);
			if (t[i] < 0)
				break;
		}
		if (i < ROUNDS) {
			printf("not ok %u %s: could not map or set mTHP sizes\n",
			       s + 1, shapes[s].name);
			bad = 1;
			continue;
		}
		qsort(t, ROUNDS, sizeof(t[0]), cmp);
		printf("# METRIC %s_%s_ns %.0f ns\n", prefix, shapes[s].name,
		       t[ROUNDS / 2]);
		printf("ok %u %s: median %.0f ns per fault (%d rounds of %d)\n",
		       s + 1, shapes[s].name, t[ROUNDS / 2], ROUNDS, REGIONS);
	}
	return bad;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * mapread: mmap() and read every regular file under a directory, one
 * byte per page, and count the minor faults it took: real data, read
 * the way a program reads its libraries or sources.  One pass on the
 * page cache as written, one on folios from readahead (each file is
 * dropped from the page cache with POSIX_FADV_DONTNEED before each
 * mapping of it).
 *
 * Where a mapping starts within the fault-around window decides which
 * pages each fault maps, so a count taken at the address mmap() happens
 * to give (which ASLR changes from run to run) differs between two runs
 * of one kernel by as much as a fault per file.  Each file is therefore
 * mapped at every page offset from a PMD boundary within one window
 * (fault_around_bytes), and a pass counts the faults of all of them:
 * the same addresses on every kernel, and every alignment a program may
 * get.
 *
 * KTAP out, counts as "# METRIC" lines for metrics.tsv; with -v, one
 * "# FILE <pass> <faults> <pages> <path>" line per file (all offsets):
 *
 *   mapread [-v] <dir> <metric prefix>
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define FAB "/sys/kernel/debug/fault_around_bytes"
#define PMD_BYTES (2UL << 20)

static long files, pages, failures, cached;
static const char *what;
static int verbose, dropped;
static volatile unsigned long sink;
static long psize, offsets;

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* Map @len bytes of @fd at @off pages past a PMD boundary and read them. */
static int map_at(int fd, size_t len, long off, const char *path)
{
	size_t span = len + PMD_BYTES + off * psize;
	unsigned char *area, *p;
	uintptr_t at;

	/* A reservation to place the file in, never touched. */
	area = mmap(NULL, span, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (area == MAP_FAILED) {
		printf("# mmap reservation for %s: %s\n", path, strerror(errno));
		return -1;
	}
	at = ((uintptr_t)area + PMD_BYTES - 1) & ~(PMD_BYTES - 1);
	p = mmap((void *)(at + off * psize), len, PROT_READ,
		 MAP_SHARED | MAP_FIXED, fd, 0);
	if (p == MAP_FAILED) {
		printf("# mmap %s: %s\n", path, strerror(errno));
		munmap(area, span);
		return -1;
	}
	if (dropped) {
		unsigned char vec[len / psize + 1];

		/* What the drop left behind is not read ahead: say so. */
		if (!mincore(p, len, vec))
			for (size_t i = 0; i < (len + psize - 1) / psize; i++)
				cached += vec[i] & 1;
	}
	for (size_t o = 0; o < len; o += psize) {
		sink += p[o];
		pages++;
	}
	munmap(area, span);
	return 0;
}

static int one(const char *path, const struct stat *st, int type,
	       struct FTW *ftw)
{
	size_t len = st->st_size;
	long before = minflt();
	int fd;

	(void)ftw;
	if (type != FTW_F || !S_ISREG(st->st_mode) || !len)
		return 0;
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("# open %s: %s\n", path, strerror(errno));
		failures++;
		return 0;
	}
	for (long off = 0; off < offsets; off++) {
		if (dropped &&
		    (errno = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))) {
			printf("# fadvise %s: %s\n", path, strerror(errno));
			failures++;
			break;
		}
		if (map_at(fd, len, off, path)) {
			failures++;
			break;
		}
	}
	close(fd);
	files++;
	if (verbose)
		printf("# FILE %s %ld %zu %s\n", what, minflt() - before,
		       (len + psize - 1) / psize * offsets, path);
	return 0;
}

static int pass(const char *dir, const char *prefix, const char *name,
		int n)
{
	long before;

	what = name;
	files = pages = failures = cached = 0;
	before = minflt();
	if (nftw(dir, one, 16, FTW_PHYS)) {
		printf("not ok %d %s: nftw(%s): %s\n", n, what, dir,
		       strerror(errno));
		return 1;
	}
	printf("# METRIC %s_minor_faults_%s %ld faults\n", prefix, what,
	       minflt() - before);
	printf("# METRIC %s_pages_%s %ld pages\n", prefix, what, pages);
	if (dropped)
		printf("# %ld of the pages were still cached when mapped\n",
		       cached);
	if (!files || failures) {
		printf("not ok %d %s: %ld files read, %ld failed\n", n, what,
		       files, failures);
		return 1;
	}
	printf("ok %d %s: %ld files, %ld pages (%ld offsets)\n", n, what,
	       files, pages, offsets);
	return 0;
}

/* Pages in the fault-around window; 16 (the default) if unreadable. */
static long window(void)
{
	FILE *f = fopen(FAB, "r");
	unsigned long bytes = 0;

	if (!f || fscanf(f, "%lu", &bytes) != 1 || bytes < (unsigned long)psize)
		bytes = 16 * psize;
	if (f)
		fclose(f);
	printf("# fault-around window %lu bytes%s\n", bytes,
	       f ? "" : " (" FAB " unreadable: the default)");
	return bytes / psize;
}

int main(int argc, char **argv)
{
	int bad = 0;

	if (argc == 4 && !strcmp(argv[1], "-v")) {
		verbose = 1;
		argv++;
		argc--;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: %s [-v] <dir> <metric prefix>\n",
			argv[0]);
		return 2;
	}
	psize = sysconf(_SC_PAGESIZE);
	printf("TAP version 13\n1..2\n");
	offsets = window();
	bad |= pass(argv[1], argv[2], "written", 1);
	sync();
	dropped = 1;
	bad |= pass(argv[1], argv[2], "readahead", 2);
	return bad;
}

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
 * pages each fault maps, so a count taken where mmap() happens to put
 * the file (which ASLR changes from run to run) differs between two
 * runs of one kernel.  Each file is therefore mapped at every page
 * offset of one window (fault_around_bytes) from a PMD boundary, in a
 * reservation of its own (so each mapping's first fault meets an empty
 * PMD), and a pass counts the faults of all of them: the same
 * alignments on every kernel, and every one a program may get.
 *
 * Faults that read the file in are major faults: the readahead pass
 * reports them apart.  mincore() counts the pages a drop left cached
 * (right for root, which the guest is: for a caller that cannot write
 * the file the kernel says every page is cached).
 *
 * KTAP out, counts as "# METRIC" lines for metrics.tsv; with -v, one
 * "# FILE <pass> <minor faults> <pages> <path>" line per file (all
 * offsets):
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
static unsigned char vec[4096];		/* mincore(), a chunk at a time */

/* Minor faults so far; the major ones in *major if major is not NULL. */
static long minflt(long *major)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	if (major)
		*major = ru.ru_majflt;
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
	/* What the drop left behind is not read ahead: say so. */
	for (size_t o = 0; dropped && o < len; o += sizeof(vec) * psize) {
		size_t n = len - o < sizeof(vec) * psize ? len - o :
			   sizeof(vec) * psize;

		if (mincore(p + o, n, vec))
			break;
		for (size_t i = 0; i < (n + psize - 1) / psize; i++)
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
	long before = minflt(NULL), off;
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
	for (off = 0; off < offsets; off++) {
		if (dropped &&
		    (errno = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED))) {
			printf("# fadvise %s: %s\n", path, strerror(errno));
			break;
		}
		if (map_at(fd, len, off, path))
			break;
	}
	close(fd);
	if (off < offsets)
		failures++;
	else
		files++;
	if (verbose)
		printf("# FILE %s %ld %zu %s\n", what, minflt(NULL) - before,
		       (len + psize - 1) / psize * off, path);
	return 0;
}

static int pass(const char *dir, const char *prefix, const char *name,
		int n)
{
	long before, major, after, major_after;

	what = name;
	files = pages = failures = cached = 0;
	before = minflt(&major);
	if (nftw(dir, one, 16, FTW_PHYS)) {
		printf("not ok %d %s: nftw(%s): %s\n", n, what, dir,
		       strerror(errno));
		return 1;
	}
	after = minflt(&major_after);
	printf("# METRIC %s_minor_faults_%s %ld faults\n", prefix, what,
	       after - before);
	printf("# METRIC %s_major_faults_%s %ld faults\n", prefix, what,
	       major_after - major);
	printf("# METRIC %s_pages_%s %ld pages\n", prefix, what, pages);
	if (dropped)
		printf("# METRIC %s_pages_cached_%s %ld pages\n", prefix,
		       what, cached);
	if (!files || failures) {
		printf("not ok %d %s: %ld files read, %ld failed\n", n, what,
		       files, failures);
		return 1;
	}
	printf("ok %d %s: %ld files, %ld pages (%ld offsets)\n", n, what,
	       files, pages, offsets);
	return 0;
}

/* Pages in the fault-around window; the default's if unreadable. */
static long window(const char *prefix)
{
	FILE *f = fopen(FAB, "r");
	unsigned long bytes = 0;
	int known = f && fscanf(f, "%lu", &bytes) == 1 &&
		    bytes >= (unsigned long)psize;

	if (f)
		fclose(f);
	if (!known) {
		bytes = 65536 > psize ? 65536 : psize;
		printf("# %s unreadable: the default window\n", FAB);
	}
	printf("# METRIC %s_window %lu bytes\n", prefix, bytes);
	return bytes / psize;
}

int main(int argc, char **argv)
{
	int bad = 0;

	/* The test port is a pipe (the init's KTAP framer): a line at a time,
	 * as kselftest.h sets it, so that a kill loses no finished line. */
	setvbuf(stdout, NULL, _IOLBF, 0);

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
	offsets = window(argv[2]);
	bad |= pass(argv[1], argv[2], "written", 1);
	sync();
	dropped = 1;
	bad |= pass(argv[1], argv[2], "readahead", 2);
	return bad;
}

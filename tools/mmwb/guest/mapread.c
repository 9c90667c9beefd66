// SPDX-License-Identifier: GPL-2.0
/*
 * mapread: mmap() and read every regular file under a directory, one
 * byte per page, and count the minor faults it took: real data, read
 * the way a program reads its libraries or sources.  Run once on the
 * page cache as written, once after drop_caches (folios from
 * readahead).  KTAP out, counts as "# METRIC" lines for metrics.tsv:
 *
 *   mapread <dir> <metric prefix>
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static long files, pages, failures;
static volatile unsigned long sink;
static long psize;

static int one(const char *path, const struct stat *st, int type,
	       struct FTW *ftw)
{
	size_t len = st->st_size;
	unsigned char *p;
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
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		printf("# mmap %s: %s\n", path, strerror(errno));
		failures++;
		return 0;
	}
	for (size_t off = 0; off < len; off += psize) {
		sink += p[off];
		pages++;
	}
	munmap(p, len);
	files++;
	return 0;
}

static long minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

static int pass(const char *dir, const char *prefix, const char *what,
		int n)
{
	long before;

	files = pages = failures = 0;
	before = minflt();
	if (nftw(dir, one, 16, FTW_PHYS)) {
		printf("not ok %d %s: nftw(%s): %s\n", n, what, dir,
		       strerror(errno));
		return 1;
	}
	printf("# METRIC %s_minor_faults_%s %ld faults\n", prefix, what,
	       minflt() - before);
	printf("# METRIC %s_pages_%s %ld pages\n", prefix, what, pages);
	if (!files || failures) {
		printf("not ok %d %s: %ld files read, %ld failed\n", n, what,
		       files, failures);
		return 1;
	}
	printf("ok %d %s: %ld files, %ld pages\n", n, what, files, pages);
	return 0;
}

int main(int argc, char **argv)
{
	int fd, bad = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: %s <dir> <metric prefix>\n", argv[0]);
		return 2;
	}
	psize = sysconf(_SC_PAGESIZE);
	printf("TAP version 13\n1..2\n");
	bad |= pass(argv[1], argv[2], "written", 1);
	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd < 0 || write(fd, "3\n", 2) != 2) {
		printf("not ok 2 readahead: cannot drop caches: %s\n",
		       strerror(errno));
		return 1;
	}
	close(fd);
	bad |= pass(argv[1], argv[2], "readahead", 2);
	return bad;
}

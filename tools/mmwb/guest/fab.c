// SPDX-License-Identifier: GPL-2.0
/*
 * fab: run a program with the fault-around window set, then put the
 * window back; exit with the program's status.
 *
 *   fab <bytes> <program> [args...]
 *
 * The kernel rounds the value down to a power of two and caps it at one
 * page table's worth (PTRS_PER_PTE pages); fab prints the window it got.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define FAB "/sys/kernel/debug/fault_around_bytes"

static int put(unsigned long val)
{
	FILE *f = fopen(FAB, "w");
	int ret;

	if (!f)
		return -1;
	ret = fprintf(f, "%lu\n", val) < 0;
	return fclose(f) || ret ? -1 : 0;
}

static int get(unsigned long *val)
{
	FILE *f = fopen(FAB, "r");
	int ret;

	if (!f)
		return -1;
	ret = fscanf(f, "%lu", val) == 1 ? 0 : -1;
	fclose(f);
	return ret;
}

int main(int argc, char **argv)
{
	unsigned long old, now;
	int status;
	pid_t pid;

	/* The test port is a pipe (the init's KTAP framer): a line at a time,
	 * as kselftest.h sets it, so that a kill loses no finished line. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (argc < 3) {
		fprintf(stderr, "usage: fab <bytes> <program> [args...]\n");
		return 2;
	}
	if (get(&old) || put(strtoul(argv[1], NULL, 0)) || get(&now)) {
		perror(FAB);
		return 2;
	}
	printf("# fab: fault_around_bytes %lu (was %lu)\n", now, old);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		put(old);
		return 2;
	}
	if (!pid) {
		execv(argv[2], argv + 2);
		perror(argv[2]);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0) {
		perror("waitpid");
		status = 2 << 8;
	}
	if (put(old))
		perror(FAB);
	if (WIFSIGNALED(status)) {
		fprintf(stderr, "fab: %s killed by signal %d\n", argv[2],
			WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	return WEXITSTATUS(status);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * calc_anonymous_folio_order() (the series' mm/anon_folio_order.h,
 * compiled as is) against the loop alloc_anon_folio() has in 7.3.4
 * (mm/memory.c: pte_range_none() for each order, highest first; copied
 * below), ns per call, best of 9 rounds, for page table shapes where the
 * two read different numbers of PTEs and where they read the same.
 *
 * And, in the same run, what one anonymous page fault costs on this host
 * (order 0: MADV_NOHUGEPAGE), so that a saving reads against the fault
 * it is part of.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <linux/align.h>
#include <linux/bitops.h>
#include <linux/pgtable.h>
#include "anon_folio_order.h"

/* 7.3.4 mm/memory.c, pte_range_none() and the loop of alloc_anon_folio() */
static bool pte_range_none(pte_t *pte, int nr_pages)
{
	int i;

	for (i = 0; i < nr_pages; i++) {
		if (!pte_none(ptep_get_lockless(pte + i)))
			return false;
	}
	return true;
}

static int highest_order(unsigned long orders)
{
	return orders ? 63 - __builtin_clzl(orders) : -1;
}

static int next_order(unsigned long *orders, int prev)
{
	*orders &= ~BIT(prev);
	return highest_order(*orders);
}

static noinline int old_loop(unsigned long orders, unsigned long address,
			     pte_t *pte)
{
	int order = highest_order(orders);

	while (orders) {
		unsigned long addr = ALIGN_DOWN(address, (1UL << PAGE_SHIFT) << order);

		if (pte_range_none(pte + pte_index(addr), 1 << order))
			break;
		order = next_order(&orders, order);
	}
	return orders ? order : -1;
}

static noinline int helper(unsigned long orders, unsigned long address,
			   pte_t *pte)
{
	return calc_anonymous_folio_order(orders, address, pte);
}

static pte_t table[PTRS_PER_PTE];

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static double time_it(int (*f)(unsigned long, unsigned long, pte_t *),
		      unsigned long orders, unsigned long addr)
{
	const long iters = 200000;
	double best = 1e99;
	volatile int sink;
	int r;

	for (r = 0; r < 9; r++) {
		double t0 = now_ns();
		long i;

		for (i = 0; i < iters; i++)
			sink = f(orders, addr, table);
		if ((now_ns() - t0) / iters < best)
			best = (now_ns() - t0) / iters;
	}
	(void)sink;
	return best;
}

/* ns per order-0 anonymous write fault, best of 5 rounds of 64 MiB. */
static double fault_ns(void)
{
	const size_t len = 64UL << 20, pg = 4096;
	double best = 1e99;
	int r;

	for (r = 0; r < 5; r++) {
		char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		double t0;
		size_t i;

		if (p == MAP_FAILED)
			return -1;
		madvise(p, len, MADV_NOHUGEPAGE);
		t0 = now_ns();
		for (i = 0; i < len; i += pg)
			p[i] = 1;
		if ((now_ns() - t0) / (len / pg) < best)
			best = (now_ns() - t0) / (len / pg);
		munmap(p, len);
	}
	return best;
}

int main(void)
{
	static const struct {
		const char *name;
		int used;		/* the PTE in use, -1: none */
		unsigned long fault;	/* PTE index of the fault */
		unsigned long orders;	/* 0x1fc: orders 2..8; 0x10: 64 KiB */
	} s[] = {
		{ "worst_all", 255, 252, 0x1fc },
		{ "empty_all", -1, 0, 0x1fc },
		{ "used_before_all", 0, 1, 0x1fc },
		{ "used_mid_all", 100, 200, 0x1fc },
		{ "worst_one", 255, 252, 1UL << 4 },
		{ "empty_one", -1, 0, 1UL << 4 },
	};
	double fault = fault_ns();
	unsigned int i;

	printf("# anon page fault (order 0) on this host: %.0f ns\n", fault);
	printf("# METRIC bench_anon_fault_ns %.0f ns\n", fault);
	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		unsigned long a = s[i].fault << PAGE_SHIFT;
		double o, h;

		memset(table, 0, sizeof(table));
		if (s[i].used >= 0)
			table[s[i].used].val = 1;
		if (old_loop(s[i].orders, a, table) !=
		    helper(s[i].orders, a, table)) {
			printf("# %s: the two choose different orders\n",
			       s[i].name);
			return 1;
		}
		o = time_it(old_loop, s[i].orders, a);
		h = time_it(helper, s[i].orders, a);
		printf("# %-16s orders %#5lx, PTE %3d in use, fault at %3lu: "
		       "order %2d, loop %6.1f ns, helper %6.1f ns\n",
		       s[i].name, s[i].orders, s[i].used, s[i].fault,
		       helper(s[i].orders, a, table), o, h);
		printf("# METRIC bench_anon_order_%s_loop_ns %.1f ns\n",
		       s[i].name, o);
		printf("# METRIC bench_anon_order_%s_helper_ns %.1f ns\n",
		       s[i].name, h);
	}
	return 0;
}

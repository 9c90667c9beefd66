/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stub of <linux/pgtable.h> for timing mm/anon_folio_order.h: a PTE is a
 * word, none when zero, read once as READ_ONCE() would.  Unlike the stub
 * of tools/testing/anon-order it counts nothing, so that the loop timed
 * is the kernel's own.
 */
#ifndef _BENCH_ANON_ORDER_PGTABLE_H
#define _BENCH_ANON_ORDER_PGTABLE_H

#include <stdbool.h>

#define PTRS_PER_PTE	512
#define PAGE_SHIFT	12

typedef struct { unsigned long val; } pte_t;

static inline pte_t ptep_get_lockless(pte_t *ptep)
{
	return (pte_t){ *(volatile unsigned long *)&ptep->val };
}

static inline bool pte_none(pte_t pte)
{
	return !pte.val;
}

static inline unsigned long pte_index(unsigned long address)
{
	return (address >> PAGE_SHIFT) & (PTRS_PER_PTE - 1);
}

#endif

/* SPDX-License-Identifier: MIT */
/* atomic.h - one memory-ordering vocabulary for every word shared with
 * the kernel or another thread (as liburing's barrier.h).
 *
 * Acquire pairs with the other side's release: what it wrote before its
 * release is visible after our acquire.  Relaxed: a single word that must
 * not tear, with no ordering implied.
 */
#ifndef FUSEURING_ATOMIC_H
#define FUSEURING_ATOMIC_H

#define load_acquire(p)		__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define load_relaxed(p)		__atomic_load_n((p), __ATOMIC_RELAXED)
#define store_relaxed(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)
/* Read-modify-write that is both: the last of several to count down sees
 * everything the others did before. */
#define sub_fetch_acq_rel(p, n)	__atomic_sub_fetch((p), (n), __ATOMIC_ACQ_REL)
/* Set a flag and learn whether it was already set: the first caller, and
 * only it, goes on to do the work the flag stands for. */
#define test_and_set(p)		__atomic_exchange_n((p), true, __ATOMIC_ACQ_REL)

#endif

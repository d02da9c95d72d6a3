/*
 * base_clock: the two clocks ctflowd reads.  Monotonic time paces the loop,
 * deadlines and back-off; realtime stamps what an operator reads (flow
 * starts, row times, DateAndTime objects).
 */
#ifndef CTFLOWD_BASE_CLOCK_H
#define CTFLOWD_BASE_CLOCK_H

#include <stdint.h>

uint64_t clock_mono_ns(void);
uint64_t clock_mono_us(void);
uint64_t clock_mono_ms(void);
uint64_t clock_real_ns(void);

#endif

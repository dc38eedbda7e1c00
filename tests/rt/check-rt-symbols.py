#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Fail when an audio-thread object calls something the audio thread must not.

Usage: check-rt-symbols.py [--expect-violation] [--allow OBJ:SYMBOL ...]
                           [--foreign PREFIX --foreign-allow OBJ:SYMBOL ...] LIB.a [LIB.a ...]

Reads the undefined symbols of each object in the given static libraries
(`nm -u`) and matches them against the forbidden families: allocation,
freeing, locks and condition variables, stdio and console output, file I/O,
sleeping and yielding, logging, and assertion failure handlers (which print).
With --expect-violation the exit status is inverted, so a deliberately bad
object proves that the check can fail.

--allow OBJ:SYMBOL lets one object (whose file name ends with OBJ) call one
forbidden symbol; every allowance is written, with its reason, where the
check is registered (tests/rt/meson.build), so that it stays visible.

--foreign PREFIX names a third-party library the audio thread calls into
(Rubber Band: rubberband_): its calls cannot be inspected here, so every
undefined symbol with that prefix must be listed with --foreign-allow
OBJ:SYMBOL, each with its reason where the check is registered, and the
run-time interposer test of that library is the proof that those calls
neither allocate nor lock.
"""
import re
import subprocess
import sys

FORBIDDEN = [
    # allocation and freeing
    r"malloc", r"calloc", r"realloc", r"reallocarray", r"free", r"aligned_alloc",
    r"posix_memalign", r"memalign", r"valloc", r"pvalloc", r"strdup", r"strndup",
    r"mmap", r"munmap", r"mmap64", r"brk", r"sbrk",
    r"_Znwm", r"_Znam", r"_ZdlPv", r"_ZdaPv", r"_ZdlPvm",
    # locks, condition variables, semaphores, joins
    r"pthread_mutex_\w+", r"pthread_cond_\w+", r"pthread_rwlock_\w+",
    r"pthread_spin_\w+", r"pthread_join", r"pthread_barrier_\w+", r"sem_\w+",
    r"mtx_\w+", r"cnd_\w+", r"thrd_join", r"futex",
    # stdio, console, files, logging
    r"printf", r"fprintf", r"vprintf", r"vfprintf", r"dprintf", r"puts", r"fputs",
    r"putchar", r"fputc", r"fwrite", r"fread", r"fopen", r"fclose", r"fflush",
    r"perror", r"syslog", r"vsyslog", r"__printf_chk", r"__fprintf_chk",
    r"__vfprintf_chk", r"open", r"open64", r"openat", r"close", r"read", r"write",
    r"snd_lib_error\w*", r"snd_output_\w+",
    # sleeping, yielding, waiting for other threads
    r"sleep", r"usleep", r"nanosleep", r"clock_nanosleep", r"sched_yield",
    r"pause", r"select", r"pselect", r"poll", r"ppoll", r"__poll_chk", r"epoll_wait",
    # assertion handlers print and abort
    r"__assert_fail", r"__assert_perror_fail", r"abort", r"exit",
]
PATTERN = re.compile(r"^(?:" + "|".join(FORBIDDEN) + r")(?:@.*)?$")


def undefined_symbols(lib):
    out = subprocess.run(["nm", "-u", "-A", lib], check=True, capture_output=True,
                         text=True).stdout
    for line in out.splitlines():
        # "lib.a:obj.o:                 U symbol"
        parts = line.rsplit(None, 2)
        if len(parts) == 3 and parts[1] == "U":
            yield parts[0].rstrip(":"), parts[2]


def main(argv):
    expect_violation = False
    allowed = set()
    foreign = []
    foreign_allowed = set()
    libs = []
    args = iter(argv)
    for a in args:
        if a == "--expect-violation":
            expect_violation = True
        elif a == "--allow":
            obj, _, sym = next(args).partition(":")
            allowed.add((obj, sym))
        elif a == "--foreign":
            foreign.append(next(args))
        elif a == "--foreign-allow":
            obj, _, sym = next(args).partition(":")
            foreign_allowed.add((obj, sym))
        else:
            libs.append(a)
    if not libs:
        print(__doc__)
        return 2
    violations = []
    n_symbols = 0
    for lib in libs:
        for where, sym in undefined_symbols(lib):
            n_symbols += 1
            if PATTERN.match(sym):
                obj = where.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
                if any(obj.endswith(o) and sym == s for o, s in allowed):
                    print(f"allowed: {sym} (in {where})")
                    continue
                violations.append((where, sym))
            elif any(sym.startswith(p) for p in foreign):
                obj = where.rsplit(":", 1)[-1].rsplit("/", 1)[-1]
                if any(obj.endswith(o) and sym == s for o, s in foreign_allowed):
                    print(f"listed foreign call: {sym} (in {where})")
                    continue
                violations.append((where, sym))
    for where, sym in violations:
        print(f"forbidden call on the audio thread: {sym} (in {where})")
    print(f"checked {n_symbols} undefined symbols in {len(libs)} real-time libraries: "
          f"{len(violations)} forbidden")
    if expect_violation:
        return 0 if violations else 1
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

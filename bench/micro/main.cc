// SPDX-License-Identifier: MIT
// vxbench_micro: every micro-benchmark of bench/micro/ in one binary. Filter with
// --benchmark_filter=fdb/ (or parse/, vlan_egress/, pipeline/).
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();

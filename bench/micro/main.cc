// SPDX-License-Identifier: MIT
// vxbench_micro: every micro-benchmark of bench/micro/ in one binary. Filter with
// --benchmark_filter=fdb/ (or parse/, vlan_egress/, pipeline/, workload/).
//
// Exits 1 when a benchmark reported an error (SkipWithError: a key that should hit missed, a
// frame that was not forwarded or not edited), so that the bench-smoke test fails on it;
// Google Benchmark's own main exits 0 either way. The console shows the results; for JSON use
// --benchmark_out=FILE --benchmark_out_format=json.
#include <benchmark/benchmark.h>

#include <vector>

namespace {

class error_counting_reporter final : public benchmark::ConsoleReporter {
public:
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const auto& run : runs) {
            errors += run.error_occurred ? 1 : 0;
        }
        ConsoleReporter::ReportRuns(runs);
    }
    int errors = 0;
};

} // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    error_counting_reporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    return reporter.errors == 0 ? 0 : 1;
}

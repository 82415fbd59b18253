// SPDX-License-Identifier: MIT
// vxbench_micro: every micro-benchmark of bench/micro/ in one binary. Filter with
// --benchmark_filter=fdb/ (or parse/, vlan_egress/, pipeline/, workload/).
//
// Exits 1 when a benchmark reported an error (SkipWithError: a key that should hit missed, a
// frame that was not forwarded or not edited), so that the bench-smoke test fails on it;
// Google Benchmark's own main exits 0 either way. --benchmark_format=console or json chooses
// the display (csv, deprecated by Google Benchmark, is not offered).
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <string_view>
#include <vector>

namespace {

// The display reporter --benchmark_format asks for, counting the runs that failed.
class error_counting_reporter final : public benchmark::BenchmarkReporter {
public:
    explicit error_counting_reporter(bool json) {
        if (json) {
            _display = std::make_unique<benchmark::JSONReporter>();
        } else {
            _display = std::make_unique<benchmark::ConsoleReporter>();
        }
    }
    bool ReportContext(const Context& context) override { return _display->ReportContext(context); }
    void ReportRuns(const std::vector<Run>& runs) override {
        for (const auto& run : runs) {
            errors += run.error_occurred ? 1 : 0;
        }
        _display->ReportRuns(runs);
    }
    void Finalize() override { _display->Finalize(); }

    int errors = 0;

private:
    std::unique_ptr<benchmark::BenchmarkReporter> _display;
};

// --benchmark_format=FORMAT, read before benchmark::Initialize takes the flags out of argv.
std::string_view format_flag(int argc, char** argv) {
    constexpr std::string_view flag = "--benchmark_format=";
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg.starts_with(flag)) {
            return arg.substr(flag.size());
        }
    }
    return "console";
}

} // namespace

int main(int argc, char** argv) {
    const std::string_view format = format_flag(argc, argv);
    if (format != "console" && format != "json") {
        std::fprintf(stderr, "vxbench_micro: --benchmark_format=%.*s: console or json\n", static_cast<int>(format.size()),
                     format.data());
        return 2;
    }
    error_counting_reporter reporter(format == "json");
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) {
        return 1;
    }
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    return reporter.errors == 0 ? 0 : 1;
}

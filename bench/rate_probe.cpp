// rate_probe: draincheck's open-loop load generator at a fixed rate against a server that is
// already running, for bench/lb_overhead.sh. Prints one line:
//   sent N ok N errors N p50_us X p90_us X p99_us X max_us X
// Latency runs from each request's intended send time to the end of its response (no coordinated
// omission), over complete responses; the first --skip-ms of the run (connections opening) are left
// out of the figures.
//   rate_probe --port P --rate R [--seconds S] [--skip-ms MS] [--path /] [--threads N]
#include "load/load_generator.h"

#include <CLI/CLI.hpp>
#include <fmt/core.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

namespace {

uint32_t percentile(const std::vector<uint32_t>& sorted, double p) {
    if (sorted.empty()) return 0;
    size_t rank = size_t(p * double(sorted.size() - 1) + 0.5);
    return sorted[std::min(rank, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
    using namespace draincheck;
    uint16_t port = 0;
    double rate = 0, seconds = 5, skip_ms = 500;
    unsigned threads = 1;
    std::string path = "/";
    CLI::App app{"draincheck's open-loop load generator at a fixed rate against a running server on 127.0.0.1"};
    app.add_option("--port", port)->required()->check(CLI::Range(1, 65535));
    app.add_option("--rate", rate, "requests per second")->required()->check(CLI::Range(0.001, 1e7));
    app.add_option("--seconds", seconds)->check(CLI::Range(0.001, 3600.0));
    app.add_option("--skip-ms", skip_ms, "left out of the figures from the start")->check(CLI::Range(0.0, 3.6e6));
    app.add_option("--path", path)->check(
        CLI::Validator([](std::string& p) { return p.starts_with('/') ? "" : std::string("must start with /"); }, "PATH"));
    app.add_option("--threads", threads)->check(CLI::Range(1, 64));
    CLI11_PARSE(app, argc, argv);

    LoadSpec spec;
    spec.mode = LoadSpec::Mode::rate;
    spec.rate = rate;
    spec.duration = std::chrono::duration_cast<Nanos>(std::chrono::duration<double>(seconds));
    spec.request.path = path;
    spec.threads = threads;
    spec.timeout = std::chrono::seconds(5);

    try {
        RunClock clock;
        LoadGenerator load(spec, "127.0.0.1", port, clock);
        std::mutex m;
        std::condition_variable cv;
        bool finished = false;
        load.start([&] {
            std::lock_guard lock(m);
            finished = true;
            cv.notify_one();
        });
        {
            std::unique_lock lock(m);
            cv.wait(lock, [&] { return finished; });
        }
        load.join();
        const auto records = load.take_records();
        if (records.empty()) {
            fmt::print(stderr, "rate_probe: no request was sent\n");
            return 1;
        }

        const uint64_t skip_us = uint64_t(skip_ms * 1000);
        const uint32_t first_us = records.front().intended_us;
        uint64_t ok = 0, errors = 0;
        std::vector<uint32_t> latencies;
        latencies.reserve(records.size());
        for (const auto& r : records) {
            if (r.intended_us < first_us + skip_us) continue;
            const bool complete = r.outcome == Outcome::ok || r.outcome == Outcome::http_error;
            if (r.outcome == Outcome::ok) ++ok;
            else ++errors;
            if (!complete || r.end_us == RequestRecord::kNever) continue;
            const uint64_t end = uint64_t(r.started_us) + r.end_us;
            latencies.push_back(end > r.intended_us ? uint32_t(end - r.intended_us) : 0);
        }
        std::sort(latencies.begin(), latencies.end());
        fmt::print("sent {} ok {} errors {} not_sent {} p50_us {} p90_us {} p99_us {} max_us {}\n", ok + errors, ok,
                   errors, load.requests_not_sent(), percentile(latencies, 0.50), percentile(latencies, 0.90),
                   percentile(latencies, 0.99), latencies.empty() ? 0 : latencies.back());
    } catch (const std::exception& e) {
        fmt::print(stderr, "rate_probe: {}\n", e.what());
        return 1;
    }
    return 0;
}

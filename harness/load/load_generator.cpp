#include "load/load_generator.h"

#include "load/client_connection.h"
#include "load/record_store.h"
#include "load/request_templates.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cmath>
#include <mutex>
#include <thread>

namespace draincheck {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// A refused or failed connect returns at once; pausing before the next attempt keeps a closed-loop
// lane from spinning (and from filling the record store) while the target is down.
constexpr auto kReconnectPause = std::chrono::milliseconds(10);

// Without an explicit max_requests, the bound is what the scenario could plausibly send, with room.
uint64_t default_max_requests(const LoadSpec& spec) {
    double seconds = std::chrono::duration<double>(spec.duration).count();
    if (spec.mode == LoadSpec::Mode::rate) return uint64_t(spec.rate * seconds * 1.1) + 1000;
    return 5'000'000;
}

// Worker `index`'s part of `total` (connections, lanes) split among `threads` workers.
unsigned share_of(unsigned total, unsigned threads, unsigned index) {
    return total / threads + (index < total % threads ? 1 : 0);
}

// Open loop: the due requests waiting for a free connection, oldest first. While one waits every
// connection is busy, so each request that falls due joins it: they are consecutive requests of their
// worker (sequences `step` apart), kept as a range rather than a queue, so memory stays flat however
// far beyond the target's reach the rate is.
class WaitingRequests {
public:
    explicit WaitingRequests(uint64_t step) : step_(step) {}
    bool empty() const { return count_ == 0; }
    uint64_t size() const { return count_; }
    void push(uint64_t sequence) {
        assert(count_ == 0 || sequence == first_ + count_ * step_);
        if (count_++ == 0) first_ = sequence;
    }
    uint64_t pop() {
        --count_;
        first_ += step_;
        return first_ - step_;
    }
    void clear() { count_ = 0; }

private:
    uint64_t step_;
    uint64_t first_ = 0;
    uint64_t count_ = 0;
};

asio::ip::address endpoint_address(const std::string& host) {
    if (host == "localhost") return asio::ip::make_address("127.0.0.1");
    return asio::ip::make_address(host);
}

}  // namespace

struct LoadGenerator::Shared {
    Shared(const LoadSpec& s, std::string host, uint16_t port, const RunClock& c)
        : spec(s),
          templates(s, (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                           std::to_string(port)),
          clock(c) {
        settings.endpoint = asio::ip::tcp::endpoint(endpoint_address(host), port);
        settings.clock = &clock;
        settings.timeout = s.timeout;
        settings.closed_idle_window_us = uint32_t(s.closed_idle_window.count() / 1000);
        settings.keep_alive = s.keep_alive;
        settings.next_connection_id = &next_connection_id;
        settings.out_of_descriptors = &out_of_descriptors;
        max_requests = s.max_requests ? s.max_requests : default_max_requests(s);
        threads = s.threads ? s.threads
                            : (s.mode == LoadSpec::Mode::rate ? (s.rate > 20000 ? 2u : 1u)
                                                              : std::min(2u, std::max(1u, s.connections / 64)));
    }

    // Claims a request slot; false once max_requests have been issued.
    bool claim() { return issued.fetch_add(1, std::memory_order_relaxed) < max_requests; }

    const LoadSpec& spec;
    RequestTemplates templates;
    const RunClock& clock;
    ConnectionSettings settings;
    std::atomic<uint32_t> next_connection_id{1};
    std::atomic<bool> out_of_descriptors{false};
    std::atomic<uint64_t> issued{0};
    std::atomic<uint64_t> closed_sequence{0};
    std::atomic<unsigned> running{0};
    std::atomic<int64_t> stopped_ns{0};
    uint64_t max_requests = 0;
    unsigned threads = 1;
    int64_t start_ns = 0;
    int64_t end_ns = 0;
    std::function<void()> on_finished;
    mutable std::mutex ports_mutex;
    std::vector<std::pair<uint32_t, uint16_t>> ports;
};

struct LoadGenerator::Worker final : ConnectionOwner {
    Worker(Shared& shared, unsigned index)
        : shared(shared), index(index), io(1), tick(io),
          store(shared.max_requests / shared.threads + RecordStore::kChunk),
          // max_connections bounds the whole load: each worker opens its part (at least one, to send at all).
          max_connections(std::max(1u, share_of(shared.spec.max_connections, shared.threads, index))) {}

    void run() {
        if (shared.spec.mode == LoadSpec::Mode::rate) {
            next_sequence = index;
            period_ns = 1e9 / shared.spec.rate;
            schedule_tick();
        } else {
            unsigned lanes = share_of(shared.spec.connections, shared.threads, index);
            for (unsigned i = 0; i < lanes; ++i) start_next(new_connection());
            tick.expires_at(shared.clock.at(shared.end_ns));
            tick.async_wait([this](const error_code& ec) { if (!ec) begin_stop(schedule_done); });
        }
        io.run();
        int64_t now = shared.clock.now_ns();
        int64_t prev = shared.stopped_ns.load();
        while (now > prev && !shared.stopped_ns.compare_exchange_weak(prev, now)) {}
        if (shared.running.fetch_sub(1) == 1 && shared.on_finished) shared.on_finished();
    }

    void post_stop() { asio::post(io, [this] { begin_stop(stopped_early); }); }

    // ---- open loop -------------------------------------------------------------------------
    int64_t intended(uint64_t sequence) const {
        return shared.start_ns + int64_t(std::llround(double(sequence) * period_ns));
    }

    void schedule_tick() {
        if (stopping) return;
        int64_t next = intended(next_sequence);
        if (next >= shared.end_ns) return begin_stop(schedule_done);
        tick.expires_at(shared.clock.at(next));
        tick.async_wait([this](const error_code& ec) { if (!ec) on_tick(); });
    }

    void on_tick() {
        int64_t now = shared.clock.now_ns();
        // Catch up on everything due: a late timer must not thin out the schedule.
        while (!stopping && intended(next_sequence) <= now && intended(next_sequence) < shared.end_ns) {
            if (!shared.claim()) return begin_stop(stopped_early);
            Job job = job_of(next_sequence);
            next_sequence += shared.threads;
            dispatch(job);
        }
        schedule_tick();
    }

    Job job_of(uint64_t sequence) const { return Job{sequence, intended(sequence), shared.templates.pick(sequence)}; }

    void dispatch(const Job& job) {
        if (!idle.empty()) {
            ClientConnection* c = idle.back();
            idle.pop_back();
            return begin_on(*c, job);
        }
        if (open_connections < max_connections) return begin_on(*new_connection(), job);
        pending.push(job.sequence);
    }

    void begin_on(ClientConnection& c, const Job& job) {
        started.fetch_add(1, std::memory_order_relaxed);
        c.begin(job);
    }

    // ---- both modes ------------------------------------------------------------------------
    ClientConnection* new_connection() {
        ++open_connections;
        if (!spare.empty()) {
            ClientConnection* c = spare.back();
            spare.pop_back();
            return c;
        }
        connections.push_back(std::make_unique<ClientConnection>(io, shared.settings, shared.templates, *this));
        return connections.back().get();
    }

    void release(ClientConnection* c) {
        c->close();
        --open_connections;
        spare.push_back(c);
    }

    void record(const RequestRecord& r) {
        store.append(r);
        completed.fetch_add(1, std::memory_order_relaxed);
        if (r.outcome != Outcome::ok) errors.fetch_add(1, std::memory_order_relaxed);
    }

    void on_request_done(ClientConnection& c, const RequestRecord& r, bool keep_open) override {
        record(r);
        if (shared.spec.mode == LoadSpec::Mode::connections) return on_lane_done(c, r);
        // Open loop: the freed connection takes the oldest queued request, if any.
        while (!pending.empty() && !stopping) {
            Job job = job_of(pending.pop());
            job.waited_for_connection = true;
            int64_t now = shared.clock.now_ns();
            if (now - job.intended_ns <= shared.spec.timeout.count()) return begin_on(c, job);
            record_queued_timeout(job, now);
        }
        if (keep_open && !stopping) idle.push_back(&c);
        else release(&c);
    }

    // A request that waited for a free connection longer than its timeout never started: to the
    // user it is a timeout, as it would be for any client with a bounded connection pool.
    void record_queued_timeout(const Job& job, int64_t now) {
        RequestRecord r;
        r.intended_us = uint32_t(job.intended_ns / 1000);
        r.started_us = r.intended_us;
        r.end_us = uint32_t((now - job.intended_ns) / 1000);
        r.template_index = job.template_index;
        r.flags = kLocalTimeout | kWaitedForConnection;
        r.outcome = Outcome::timeout;
        started.fetch_add(1, std::memory_order_relaxed);
        record(r);
    }

    // ---- closed loop -----------------------------------------------------------------------
    void start_next(ClientConnection* c) {
        bool done = shared.clock.now_ns() >= shared.end_ns;
        if (stopping || done || !shared.claim()) {
            if (!stopping) begin_stop(done ? schedule_done : stopped_early);
            return release(c);
        }
        uint64_t seq = shared.closed_sequence.fetch_add(1, std::memory_order_relaxed);
        begin_on(*c, Job{seq, shared.clock.now_ns(), shared.templates.pick(seq)});
    }

    void on_lane_done(ClientConnection& c, const RequestRecord& r) {
        if (r.outcome == Outcome::refused || r.outcome == Outcome::connect_error) {
            if (stopping) return release(&c);
            c.delay_timer().expires_after(kReconnectPause);
            c.delay_timer().async_wait([this, &c](const error_code& ec) {
                if (ec) return release(&c);
                start_next(&c);
            });
            return;
        }
        start_next(&c);
    }

    // Why a worker stops sending: its schedule reached the load's duration, or it was stopped before
    // (stop(), max_requests). A schedule that reached the end only late, behind time, ends when it did.
    enum StopReason { schedule_done, stopped_early };

    void begin_stop(StopReason why) {
        if (stopping) return;
        stopping = true;
        int64_t now = shared.clock.now_ns();
        sending_stopped_ns = why == schedule_done ? std::max(now, shared.end_ns) : now;
        tick.cancel();
        not_sent += pending.size();
        pending.clear();
        for (ClientConnection* c : idle) release(c);
        idle.clear();
        for (auto& c : connections) c->delay_timer().cancel();
    }

    Shared& shared;
    unsigned index;
    asio::io_context io;
    asio::steady_timer tick;
    RecordStore store;
    std::vector<std::unique_ptr<ClientConnection>> connections;  // every object ever created
    std::vector<ClientConnection*> idle;    // open keep-alive connections, no request
    std::vector<ClientConnection*> spare;   // closed objects, reused for new connections
    WaitingRequests pending{shared.threads};
    unsigned max_connections;               // open loop: this worker's part of the load's max_connections
    unsigned open_connections = 0;
    uint64_t next_sequence = 0;
    double period_ns = 0;
    bool stopping = false;
    uint64_t not_sent = 0;
    int64_t sending_stopped_ns = 0;
    std::thread thread;
    std::atomic<uint64_t> started{0}, completed{0}, errors{0};
};

LoadGenerator::LoadGenerator(const LoadSpec& spec, std::string host, uint16_t port, const RunClock& clock)
    : shared_(std::make_unique<Shared>(spec, std::move(host), port, clock)) {
    for (unsigned i = 0; i < shared_->threads; ++i)
        workers_.push_back(std::make_unique<Worker>(*shared_, i));
}

LoadGenerator::~LoadGenerator() {
    stop();
    join();
}

int64_t LoadGenerator::start(std::function<void()> on_finished) {
    shared_->on_finished = std::move(on_finished);
    shared_->start_ns = shared_->clock.now_ns();
    shared_->end_ns = shared_->start_ns + shared_->spec.duration.count();
    shared_->running = unsigned(workers_.size());
    for (auto& w : workers_) w->thread = std::thread([w = w.get()] { w->run(); });
    return shared_->start_ns;
}

void LoadGenerator::stop() {
    for (auto& w : workers_) w->post_stop();
}

void LoadGenerator::join() {
    for (auto& w : workers_)
        if (w->thread.joinable()) w->thread.join();
}

LoadProgress LoadGenerator::progress() const {
    LoadProgress p;
    for (auto& w : workers_) {
        p.completed += w->completed.load(std::memory_order_relaxed);
        p.errors += w->errors.load(std::memory_order_relaxed);
        p.started += w->started.load(std::memory_order_relaxed);
    }
    return p;
}

void LoadGenerator::record_connection_ports() {
    Shared* shared = shared_.get();
    shared_->settings.note_port = [shared](uint32_t id, uint16_t port) {
        std::lock_guard lock(shared->ports_mutex);
        shared->ports.emplace_back(id, port);
    };
}

std::vector<std::pair<uint32_t, uint16_t>> LoadGenerator::connection_ports() const {
    std::lock_guard lock(shared_->ports_mutex);
    return shared_->ports;
}

std::vector<RequestRecord> LoadGenerator::take_records() {
    std::vector<RecordStore*> stores;
    for (auto& w : workers_) stores.push_back(&w->store);
    return RecordStore::merge(stores);
}

uint64_t LoadGenerator::records_lost() const {
    uint64_t n = 0;
    for (auto& w : workers_) n += w->store.lost();
    return n;
}

uint64_t LoadGenerator::requests_not_sent() const {
    uint64_t n = 0;
    for (auto& w : workers_) n += w->not_sent;
    return n;
}

bool LoadGenerator::out_of_descriptors() const { return shared_->out_of_descriptors.load(std::memory_order_relaxed); }

int64_t LoadGenerator::started_ns() const { return shared_->start_ns; }

int64_t LoadGenerator::sending_stopped_ns() const {
    int64_t last = 0;
    for (auto& w : workers_) last = std::max(last, w->sending_stopped_ns);
    return last;
}

int64_t LoadGenerator::stopped_ns() const { return shared_->stopped_ns.load(); }

}  // namespace draincheck

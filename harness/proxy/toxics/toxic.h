#pragma once
// The interface between a relayed connection and the toxics on it. A toxic added to the proxy
// becomes one ToxicLink per connection (its state on that connection: a byte count, the time of the
// last release, ...). The connection hands every chunk it reads to the links, in the order the
// toxics were added, and they decide when the chunk may be written, whether it is written at all,
// and whether the connection must end.
#include "common/run_clock.h"
#include "scenario/scenario.h"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>

namespace draincheck::toxics {

// Which way bytes move through the proxy.
enum class Flow {
    up,     // target -> dependency (ToxicSpec::Direction::upstream)
    down,   // dependency -> target (ToxicSpec::Direction::downstream)
};

bool applies(ToxicSpec::Direction direction, Flow flow);

// How a toxic wants a connection to end.
struct Ending {
    enum class Kind { none, close, reset };
    Kind kind = Kind::none;
    std::string detail;     // becomes ProxyConnection::close_detail, e.g. "toxic limit_data"

    explicit operator bool() const { return kind != Kind::none; }
};

// One chunk of bytes read from one side, on its way to the other.
struct Chunk {
    Flow flow = Flow::up;
    size_t size = 0;                    // links may shrink it (limit_data), never grow it
    SteadyClock::time_point read_at;    // when the proxy read it
    SteadyClock::time_point release;    // earliest time it may be written; links only move it later
    bool drop = false;                  // discard instead of writing; later links do not see it
    Ending then;                        // end the connection once this chunk is written
};

// What a link may know about its connection when it is made.
struct LinkContext {
    SteadyClock::time_point opened_at;  // when the connection was accepted
    SteadyClock::time_point now;        // when the toxic is attached (accept, or add_toxic)
    std::mt19937_64* rng = nullptr;     // the proxy's; only used on the proxy thread
};

// One toxic's state on one connection. Every call comes from the proxy thread.
class ToxicLink {
public:
    virtual ~ToxicLink() = default;

    // Whether chunks of this flow must go through shape() (and so through the release queue).
    virtual bool shapes(Flow) const { return false; }
    // The largest chunk shape() wants to see; bigger reads are split first.
    virtual size_t max_chunk(Flow) const { return std::numeric_limits<size_t>::max(); }
    virtual void shape(Chunk&) {}

    // How long the end of this flow (the source side's EOF or error) is held back before the
    // destination side is told.
    virtual Nanos close_delay(Flow) const { return Nanos{0}; }

    // A time at which the connection ends whatever its traffic, and how.
    virtual std::optional<SteadyClock::time_point> deadline() const { return std::nullopt; }
    virtual Ending at_deadline() const { return {}; }
};

// One file per kind.
std::unique_ptr<ToxicLink> make_latency(const ToxicSpec& spec, const LinkContext& context);
std::unique_ptr<ToxicLink> make_bandwidth(const ToxicSpec& spec, const LinkContext& context);
std::unique_ptr<ToxicLink> make_blackhole(const ToxicSpec& spec, const LinkContext& context);
std::unique_ptr<ToxicLink> make_reset_peer(const ToxicSpec& spec, const LinkContext& context);
std::unique_ptr<ToxicLink> make_slow_close(const ToxicSpec& spec, const LinkContext& context);
std::unique_ptr<ToxicLink> make_limit_data(const ToxicSpec& spec, const LinkContext& context);

// Dispatches on spec.kind.
std::unique_ptr<ToxicLink> make_link(const ToxicSpec& spec, const LinkContext& context);

}  // namespace draincheck::toxics

// bandwidth: at most `rate` bytes per second in each direction it applies to. A chunk is released
// once the time to send it at that rate has passed after the previous one, so the rate is never
// exceeded; big reads are split first so the bytes trickle instead of arriving in one late burst.
#include "proxy/toxics/toxic.h"

#include <algorithm>
#include <array>

namespace draincheck::toxics {
namespace {

// About 20 ms worth of bytes per piece, but not so small that a slow rate floods the queue.
constexpr size_t min_piece = 64;
constexpr uint64_t pieces_per_second = 50;

class Bandwidth final : public ToxicLink {
public:
    explicit Bandwidth(const ToxicSpec& spec) : spec_(spec) {}

    bool shapes(Flow flow) const override { return applies(spec_.direction, flow) && spec_.rate > 0; }

    size_t max_chunk(Flow flow) const override {
        if (!shapes(flow)) return ToxicLink::max_chunk(flow);
        return std::max<size_t>(min_piece, spec_.rate / pieces_per_second);
    }

    void shape(Chunk& chunk) override {
        auto& last = last_release_[chunk.flow == Flow::up ? 0 : 1];
        // Rounded up: the sum of the pieces' durations is never less than the whole's.
        const uint64_t ns = (static_cast<uint64_t>(chunk.size) * 1'000'000'000ULL + spec_.rate - 1) / spec_.rate;
        last = std::max(chunk.release, last) + Nanos{static_cast<int64_t>(ns)};
        chunk.release = last;
    }

private:
    ToxicSpec spec_;
    std::array<SteadyClock::time_point, 2> last_release_{};
};

}  // namespace

std::unique_ptr<ToxicLink> make_bandwidth(const ToxicSpec& spec, const LinkContext&) {
    return std::make_unique<Bandwidth>(spec);
}

}  // namespace draincheck::toxics

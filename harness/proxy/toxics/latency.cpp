// latency: every chunk is held back by `latency` +- uniform `jitter`. The release queue keeps
// releases in order, so a short delay never overtakes a longer one before it.
#include "proxy/toxics/toxic.h"

#include <algorithm>

namespace draincheck::toxics {
namespace {

class Latency final : public ToxicLink {
public:
    Latency(const ToxicSpec& spec, std::mt19937_64* rng) : spec_(spec), rng_(rng) {}

    bool shapes(Flow flow) const override { return applies(spec_.direction, flow); }

    void shape(Chunk& chunk) override {
        Nanos delay = spec_.latency;
        if (spec_.jitter.count() > 0 && rng_ != nullptr) {
            std::uniform_int_distribution<int64_t> jitter(-spec_.jitter.count(), spec_.jitter.count());
            delay += Nanos{jitter(*rng_)};
        }
        delay = std::max(delay, Nanos{0});
        chunk.release = std::max(chunk.release, chunk.read_at + delay);
    }

private:
    ToxicSpec spec_;
    std::mt19937_64* rng_;
};

}  // namespace

std::unique_ptr<ToxicLink> make_latency(const ToxicSpec& spec, const LinkContext& context) {
    return std::make_unique<Latency>(spec, context.rng);
}

}  // namespace draincheck::toxics

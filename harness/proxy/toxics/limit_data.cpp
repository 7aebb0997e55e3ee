// limit_data: a connection may carry `bytes` in the toxic's direction(s) (together, for both);
// the chunk that reaches the limit is cut there, written, and then the connection is closed.
#include "proxy/toxics/toxic.h"

#include <algorithm>

namespace draincheck::toxics {
namespace {

class LimitData final : public ToxicLink {
public:
    explicit LimitData(const ToxicSpec& spec) : spec_(spec) {}

    bool shapes(Flow flow) const override { return applies(spec_.direction, flow); }

    void shape(Chunk& chunk) override {
        const uint64_t left = spec_.bytes - std::min(carried_, spec_.bytes);
        if (chunk.size >= left) {
            chunk.size = static_cast<size_t>(left);
            chunk.then = {Ending::Kind::close, "toxic limit_data"};
        }
        carried_ += chunk.size;
    }

private:
    ToxicSpec spec_;
    uint64_t carried_ = 0;
};

}  // namespace

std::unique_ptr<ToxicLink> make_limit_data(const ToxicSpec& spec, const LinkContext&) {
    return std::make_unique<LimitData>(spec);
}

}  // namespace draincheck::toxics

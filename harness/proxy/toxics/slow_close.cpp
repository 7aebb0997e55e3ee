// slow_close: when one side closes, the other side learns of it `delay` later.
#include "proxy/toxics/toxic.h"

namespace draincheck::toxics {
namespace {

class SlowClose final : public ToxicLink {
public:
    explicit SlowClose(const ToxicSpec& spec) : spec_(spec) {}

    Nanos close_delay(Flow flow) const override { return applies(spec_.direction, flow) ? spec_.delay : Nanos{0}; }

private:
    ToxicSpec spec_;
};

}  // namespace

std::unique_ptr<ToxicLink> make_slow_close(const ToxicSpec& spec, const LinkContext&) {
    return std::make_unique<SlowClose>(spec);
}

}  // namespace draincheck::toxics

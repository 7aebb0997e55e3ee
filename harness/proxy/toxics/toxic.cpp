#include "proxy/toxics/toxic.h"

namespace draincheck::toxics {

bool applies(ToxicSpec::Direction direction, Flow flow) {
    switch (direction) {
        case ToxicSpec::Direction::upstream: return flow == Flow::up;
        case ToxicSpec::Direction::downstream: return flow == Flow::down;
        case ToxicSpec::Direction::both: return true;
    }
    return false;
}

std::unique_ptr<ToxicLink> make_link(const ToxicSpec& spec, const LinkContext& context) {
    switch (spec.kind) {
        case ToxicSpec::Kind::latency: return make_latency(spec, context);
        case ToxicSpec::Kind::bandwidth: return make_bandwidth(spec, context);
        case ToxicSpec::Kind::blackhole: return make_blackhole(spec, context);
        case ToxicSpec::Kind::reset_peer: return make_reset_peer(spec, context);
        case ToxicSpec::Kind::slow_close: return make_slow_close(spec, context);
        case ToxicSpec::Kind::limit_data: return make_limit_data(spec, context);
    }
    return std::make_unique<ToxicLink>();
}

}  // namespace draincheck::toxics

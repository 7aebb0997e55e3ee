// reset_peer: a connection is reset (RST to the target) once it is `timeout` old. Age counts from
// accept, so a connection already older than that when the toxic is added is reset at once.
#include "proxy/toxics/toxic.h"

namespace draincheck::toxics {
namespace {

class ResetPeer final : public ToxicLink {
public:
    ResetPeer(const ToxicSpec& spec, SteadyClock::time_point opened_at) : at_(opened_at + spec.timeout) {}

    std::optional<SteadyClock::time_point> deadline() const override { return at_; }
    Ending at_deadline() const override { return {Ending::Kind::reset, "toxic reset_peer"}; }

private:
    SteadyClock::time_point at_;
};

}  // namespace

std::unique_ptr<ToxicLink> make_reset_peer(const ToxicSpec& spec, const LinkContext& context) {
    return std::make_unique<ResetPeer>(spec, context.opened_at);
}

}  // namespace draincheck::toxics

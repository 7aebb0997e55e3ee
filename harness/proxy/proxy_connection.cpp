#include "proxy/proxy_connection.h"

namespace draincheck {

const char* closer_name(ProxyConnection::Closer c) {
    switch (c) {
        case ProxyConnection::Closer::target: return "target";
        case ProxyConnection::Closer::dependency: return "dependency";
        case ProxyConnection::Closer::proxy: return "proxy";
        case ProxyConnection::Closer::end_of_run: return "end_of_run";
    }
    return "?";
}

}  // namespace draincheck

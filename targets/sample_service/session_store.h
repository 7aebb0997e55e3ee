#pragma once
// Where the service keeps its users' sessions (POST /session): in this process, or in Redis, where
// they outlive the process and are shared by every instance. Not to be confused with the HTTP
// connections that http_server.cpp calls sessions.
#include <functional>
#include <string>
#include <unordered_set>

namespace sample {

class RedisClient;

class SessionStore {
public:
    enum class Lookup { found, missing, unavailable };
    virtual ~SessionStore() = default;
    // Stores `id`, then done(true); done(false) if the store could not be reached.
    virtual void add(const std::string& id, std::function<void(bool stored)> done) = 0;
    virtual void find(const std::string& id, std::function<void(Lookup)> done) = 0;
};

// A fresh session id: 32 random hex digits.
std::string new_session_id();

class MemorySessionStore : public SessionStore {
public:
    void add(const std::string& id, std::function<void(bool)> done) override;
    void find(const std::string& id, std::function<void(Lookup)> done) override;

private:
    std::unordered_set<std::string> ids_;
};

// Each session is the key draincheck:session:<id>.
class RedisSessionStore : public SessionStore {
public:
    explicit RedisSessionStore(RedisClient& redis) : redis_(redis) {}
    void add(const std::string& id, std::function<void(bool)> done) override;
    void find(const std::string& id, std::function<void(Lookup)> done) override;

private:
    RedisClient& redis_;
};

}  // namespace sample

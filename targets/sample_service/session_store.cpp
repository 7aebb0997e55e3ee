#include "session_store.h"

#include "redis_client.h"

#include <random>

namespace sample {

namespace {

std::string redis_key(const std::string& id) { return "draincheck:session:" + id; }

}  // namespace

std::string new_session_id() {
    static std::mt19937_64 random{std::random_device{}()};
    static const char* digits = "0123456789abcdef";
    std::string id;
    for (int half = 0; half < 2; ++half) {
        uint64_t bits = random();
        for (int i = 0; i < 16; ++i, bits >>= 4) id += digits[bits & 0xf];
    }
    return id;
}

void MemorySessionStore::add(const std::string& id, std::function<void(bool)> done) {
    ids_.insert(id);
    done(true);
}

void MemorySessionStore::find(const std::string& id, std::function<void(Lookup)> done) {
    done(ids_.contains(id) ? Lookup::found : Lookup::missing);
}

void RedisSessionStore::add(const std::string& id, std::function<void(bool)> done) {
    redis_.command({"SET", redis_key(id), "1"}, [done = std::move(done)](RedisResult r) {
        done(r.reply && r.reply->type == RedisReply::Type::simple_string && r.reply->text == "OK");
    });
}

void RedisSessionStore::find(const std::string& id, std::function<void(Lookup)> done) {
    redis_.command({"EXISTS", redis_key(id)}, [done = std::move(done)](RedisResult r) {
        if (!r.reply || r.reply->type != RedisReply::Type::integer) return done(Lookup::unavailable);
        done(r.reply->integer > 0 ? Lookup::found : Lookup::missing);
    });
}

}  // namespace sample

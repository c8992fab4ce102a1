import redis

from pipeline.deadletters import DeadLetters


def test_add_list_get_remove_purge(redis_client: redis.Redis) -> None:
    letters = DeadLetters(redis_client)
    first = letters.add(stage="fetch", error="FinalFetchError", message="HTTP 404", attempts=1,
                        feed_url="http://127.0.0.1/f", url="http://127.0.0.1/p", task="newsflow.fetch_article",
                        args=[{"link": "http://127.0.0.1/p"}])
    letters.add(stage="process", error="ValueError", message="boom", attempts=5, feed_url=None, url=None,
                task="newsflow.process_article", args=[])
    assert [d.stage for d in letters.list()] == ["fetch", "process"]
    got = letters.get(first)
    assert got is not None and got.args == [{"link": "http://127.0.0.1/p"}] and got.attempts == 1
    assert letters.get("not-an-id") is None
    assert letters.remove(first) and letters.count() == 1
    assert letters.purge() == 1 and letters.count() == 0


def test_purge_of_nothing(redis_client: redis.Redis) -> None:
    assert DeadLetters(redis_client).purge() == 0

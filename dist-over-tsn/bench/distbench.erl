%% The Erlang side of dist-over-tsn's dist-bench: the same measurement over standard TCP
%% distribution. On node A: start_peer() registers `echo` ({Pid, X} -> {echo, X}) and `sink`
%% (counts binaries; {stats, Pid} -> {Count, Bytes}). On node B: run(A, Pings, BulkBytes,
%% Secs) prints one JSON line: idle and loaded round trips and bulk MB/s, where the bulk
%% comes from another process on B to `sink` on A over the same connection.
-module(distbench).
-export([start_peer/0, echo/0, sink/2, run/4, run/5]).

start_peer() ->
    register(echo, spawn(?MODULE, echo, [])),
    register(sink, spawn(?MODULE, sink, [0, 0])),
    ok.

echo() ->
    receive {Pid, X} when is_pid(Pid) -> Pid ! {echo, X} end,
    echo().

sink(C, B) ->
    receive
        Bin when is_binary(Bin) -> sink(C + 1, B + byte_size(Bin));
        {stats, Pid} -> Pid ! {C, B}, sink(C, B)
    end.

run(A, N, BulkBytes, Secs) -> run(A, N, BulkBytes, Secs, 0).

%% IntervalMs > 0: wait that long after each reply before the next ping.
run(A, N, BulkBytes, Secs, IntervalMs) ->
    true = net_kernel:connect_node(A),
    _ = pings(A, 1000, 0, infinity, []),
    put(interval, IntervalMs),
    Idle = pings(A, N, 0, infinity, []),
    Self = self(),
    Bulk = spawn(fun() -> Bin = binary:copy(<<16#ab>>, BulkBytes), Self ! go, stream(A, Bin) end),
    receive go -> ok end,
    timer:sleep(500),
    {_, B0} = stats(A),
    T0 = erlang:monotonic_time(microsecond),
    Loaded = pings(A, 100000000, 1000000, T0 + round(Secs * 1000000), []),
    {_, B1} = stats(A),
    Us = erlang:monotonic_time(microsecond) - T0,
    exit(Bulk, kill),
    io:format("{\"impl\":\"erlang-dist-tcp\",\"otp\":\"~s\",\"idle\":~s,\"loaded\":~s,\"bulk_mb_s\":~.1f,\"bulk_bytes\":~b}~n",
              [erlang:system_info(otp_release), summary(Idle), summary(Loaded),
               (B1 - B0) / Us, BulkBytes]).

stream(A, Bin) -> {sink, A} ! Bin, stream(A, Bin).

stats(A) ->
    {sink, A} ! {stats, self()},
    receive {C, B} when is_integer(C) -> {C, B} after 60000 -> exit(no_stats) end.

%% Round trips in microseconds until N done or Deadline (monotonic us) passed.
pings(_A, N, I, _D, Acc) when I >= N, N < 100000000 -> Acc;
pings(A, N, I, D, Acc) ->
    Now = erlang:monotonic_time(microsecond),
    case D =/= infinity andalso Now > D of
        true -> Acc;
        false ->
            case get(interval) of
                Ms when is_integer(Ms), Ms > 0 -> timer:sleep(Ms);
                _ -> ok
            end,
            T0 = erlang:monotonic_time(nanosecond),
            {echo, A} ! {self(), I},
            receive {echo, I} -> ok end,
            pings(A, N, I + 1, D, [(erlang:monotonic_time(nanosecond) - T0) / 1000 | Acc])
    end.

summary(Acc) ->
    S = lists:sort(Acc),
    L = length(S),
    P = fun(Q) -> lists:nth(max(1, min(L, round(Q * L))), S) end,
    io_lib:format("{\"n\":~b,\"p50_us\":~.1f,\"p99_us\":~.1f,\"p999_us\":~.1f,\"max_us\":~.1f}",
                  [L, P(0.5), P(0.99), P(0.999), lists:last(S)]).

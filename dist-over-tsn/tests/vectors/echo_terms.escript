#!/usr/bin/env escript
%% -*- erlang -*-
%%! -noshell
%%
%% Reads lines of hex from stdin; for each, binary_to_term/1 then
%% term_to_binary(T, [{minor_version, 2}]) and prints `ok <hex>`, or `error <reason>` when
%% Erlang rejects the bytes. Used by tests/erl_interop.rs to prove OTP accepts what the Rust
%% encoder writes.

main(_) -> loop().

loop() ->
    case io:get_line("") of
        eof -> ok;
        Line ->
            Hex = string:trim(Line),
            Reply = try binary_to_term(unhex(Hex)) of
                T -> ["ok ", hex(term_to_binary(T, [{minor_version, 2}]))]
            catch
                C:R -> io_lib:format("error ~p:~p", [C, R])
            end,
            io:format("~s~n", [Reply]),
            loop()
    end.

unhex(Hex) -> << <<(list_to_integer([A, B], 16))>> || <<A, B>> <= list_to_binary(Hex) >>.
hex(B) -> [io_lib:format("~2.16.0b", [X]) || <<X>> <= B].

"""Server-side scripting: Lua scripts (EVAL), function libraries (FUNCTION/FCALL).

``engine.Scripting`` is the entry point the commands use; ``lua_state`` holds one
sandboxed interpreter, ``lua_bootstrap`` its Lua-side environment, ``script_run``
the ``redis.*`` callbacks, ``lua_replies`` the conversions between replies and Lua
values, ``functions`` the libraries, ``lua_libs`` cjson/cmsgpack/bit/struct.
"""

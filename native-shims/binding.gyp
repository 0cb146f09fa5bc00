{
  # vtepkit_tap: the TAP device syscalls and the batched UDP socket (Linux only). Built by
  # scripts/build-addon.mjs with npm's bundled node-gyp; the result is build/Release/vtepkit_tap.node.
  "targets": [
    {
      "target_name": "vtepkit_tap",
      "conditions": [
        ["OS=='linux'", {
          "sources": ["src/tap.c", "src/udp.c", "src/reader.c"],
          "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"]
        }]
      ]
    }
  ]
}

{
  # vtepkit_tap: the TAP device syscalls and the batched UDP socket (Linux only); vtepkit_crypto below. Built by
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
    },
    {
      # vtepkit_crypto: ESP's ciphers through the OpenSSL inside Node (its headers ship with
      # Node's, its symbols are Node's own). A separate addon: if it cannot load, only the
      # 'openssl' ESP backend is missing.
      "target_name": "vtepkit_crypto",
      "sources": ["src/crypto.c"],
      "cflags_c": ["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter"]
    }
  ]
}

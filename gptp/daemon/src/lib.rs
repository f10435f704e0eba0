//! gptpd: runs the gPTP core over raw Ethernet sockets on Linux.

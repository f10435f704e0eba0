//! Netlink messages for the Linux TSN qdiscs.

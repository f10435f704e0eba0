//! Erlang-style distribution over a prioritised UDP carrier for TSN.
//!
//! - [`term`]: the Erlang external term format, byte-exact with OTP;
//! - [`carrier`]: the sans-IO carrier (cookie handshake, four priority classes, fragmentation
//!   with round robin between streams, ordered exactly-once delivery, flow control, ticks);
//! - [`node`]: the node model (named nodes, processes, registered names, links, monitors,
//!   nodeup/nodedown) and the tokio driver running the carrier on a UDP socket (plus an
//!   urgent one that receives only control and real-time datagrams), with SO_PRIORITY set
//!   per datagram from its class, optional bounded busy polling (`Config::busy_poll`) and
//!   time-triggered real-time sends (`Process::send_at`, with `SO_TXTIME` launch times for
//!   an etf qdisc when `Config::txtime` is set).
//!
//! Two nodes on loopback, an echo process on one, a real-time round trip from the other:
//!
//! ```
//! use dist_over_tsn::carrier::{Class, Config};
//! use dist_over_tsn::node::{Msg, Node, NodeEvent};
//! use dist_over_tsn::term::Term;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let local = "127.0.0.1:0".parse()?;
//! let a = Node::start(Config::new("a", b"cookie"), local).await?;
//! let b = Node::start(Config::new("b", b"cookie"), local).await?;
//! let mut ups = b.monitor_nodes();
//!
//! // On b: a registered process answering {echo, Msg} to every message.
//! let mut echo = b.spawn();
//! assert!(echo.register("echo"));
//! tokio::spawn(async move {
//!     while let Some(Msg::Message { from: Some(from), term }) = echo.recv().await {
//!         let reply = Term::Tuple(vec![Term::atom("echo")?, term]);
//!         echo.send_in(&from, &reply, Class::RealTime).await?;
//!     }
//!     Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
//! });
//!
//! // On a: connect, send to the registered name, wait for the answer.
//! assert_eq!(a.connect(b.local_addr()).await?, "b");
//! assert_eq!(ups.recv().await, Some(NodeEvent::Up("a".into())));
//! let mut me = a.spawn();
//! me.send_named("b", "echo", &Term::from(42_i64), Class::RealTime).await?;
//! let Some(Msg::Message { from: Some(from), term }) = me.recv().await else { panic!() };
//! assert_eq!(from.node, "b");
//! assert_eq!(term, Term::Tuple(vec![Term::atom("echo")?, Term::from(42_i64)]));
//! # Ok(())
//! # }
//! ```

pub mod carrier;
pub mod node;
mod sys;
pub mod term;

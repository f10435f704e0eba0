//! veth pairs and bridges that delete themselves.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::cmd::{self, run_checked};
use crate::netns::{ip_in, next_id};
use crate::{Error, Netns, Result};

/// Longest interface name the kernel takes (`IFNAMSIZ` - 1).
const IFNAME_MAX: usize = 15;

/// A network interface by name and namespace. Does not own the interface: the [`VethPair`] or
/// [`Bridge`] it came from does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    name: String,
    netns: Option<String>,
}

impl Link {
    /// Refers to an existing interface (`netns: None` = the test process's namespace).
    pub fn new(name: &str, netns: Option<&Netns>) -> Self {
        Self {
            name: name.to_owned(),
            netns: netns.map(|n| n.name().to_owned()),
        }
    }

    /// The interface name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The name of its namespace, `None` for the test process's own.
    pub fn netns(&self) -> Option<&str> {
        self.netns.as_deref()
    }

    /// Runs `ip [-n <netns>] args...` and returns stdout. The link's name is not inserted.
    pub fn ip(&self, args: &[&str]) -> Result<String> {
        Ok(run_checked(ip_in(self.netns()).args(args))?.stdout)
    }

    /// `ip -j -d link show dev <name>`, the first (only) object.
    pub fn details(&self) -> Result<serde_json::Value> {
        let mut cmd = ip_in(self.netns());
        cmd.args(["-j", "-d", "link", "show", "dev", &self.name]);
        let out = run_checked(&mut cmd)?.stdout;
        let parse_err = |reason: String| Error::Parse {
            cmd: cmd::display(&cmd),
            reason,
        };
        let v: serde_json::Value =
            serde_json::from_str(&out).map_err(|e| parse_err(e.to_string()))?;
        v.get(0)
            .cloned()
            .ok_or_else(|| parse_err("empty array".into()))
    }

    /// Number of transmit queues (`num_tx_queues`).
    pub fn num_tx_queues(&self) -> Result<u32> {
        let d = self.details()?;
        d.get("num_tx_queues")
            .and_then(serde_json::Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| Error::Parse {
                cmd: format!("ip -j -d link show dev {}", self.name),
                reason: format!("no num_tx_queues in {d}"),
            })
    }

    /// Operational state as the kernel reports it (`UP`, `DOWN`, `LOWERLAYERDOWN`, ...).
    pub fn operstate(&self) -> Result<String> {
        let d = self.details()?;
        Ok(d.get("operstate")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("UNKNOWN")
            .to_owned())
    }

    /// Polls [`Link::operstate`] until it reads `want` (e.g. `UP`; a bridge reaches it only
    /// once a port forwards, which takes a moment, more so in an emulated guest).
    pub fn wait_operstate(&self, want: &str, timeout: Duration) -> Result<()> {
        let t0 = Instant::now();
        loop {
            let state = self.operstate()?;
            if state == want {
                return Ok(());
            }
            if t0.elapsed() >= timeout {
                return Err(Error::Timeout {
                    what: format!("{} to be {want} (is {state})", self.name),
                    waited: t0.elapsed(),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the interface exists (its namespace too).
    pub fn exists(&self) -> bool {
        if self.netns.as_deref().is_some_and(|ns| !Netns::exists(ns)) {
            return false;
        }
        cmd::run_raw(ip_in(self.netns()).args(["link", "show", "dev", &self.name]))
            .is_ok_and(|o| o.status.success())
    }

    /// `ip link set dev <name> up`.
    pub fn set_up(&self) -> Result<()> {
        self.ip(&["link", "set", "dev", &self.name, "up"]).map(drop)
    }

    /// `ip addr add <cidr> dev <name>`, e.g. `10.0.0.1/24`.
    pub fn add_addr(&self, cidr: &str) -> Result<()> {
        self.ip(&["addr", "add", cidr, "dev", &self.name]).map(drop)
    }

    /// Deletes the interface unless it (or its namespace) is already gone; never panics.
    fn delete_quietly(&self, what: &str) {
        if !self.exists() {
            return;
        }
        match cmd::run_raw(ip_in(self.netns()).args(["link", "del", "dev", &self.name])) {
            Ok(out) if out.status.success() => {}
            Ok(out) if !self.exists() => drop(out), // raced with its namespace going away
            Ok(out) => cmd::warn(&format!(
                "could not delete {what} {} ({}): {}",
                self.name,
                self.netns.as_deref().unwrap_or("host netns"),
                String::from_utf8_lossy(&out.stderr).trim()
            )),
            Err(e) => cmd::warn(&format!("could not delete {what} {}: {e}", self.name)),
        }
    }
}

fn check_ifname(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > IFNAME_MAX
        || name
            .chars()
            .any(|c| c.is_whitespace() || c == '/' || c == ':')
    {
        return Err(Error::Invalid(format!(
            "interface name {name:?}: 1-{IFNAME_MAX} characters, no whitespace, '/' or ':'"
        )));
    }
    Ok(())
}

/// A name unique to this process and call: `t<pid base 36>x<n><suffix>`, at most 15 bytes.
fn auto_ifname(suffix: &str) -> String {
    fn base36(mut n: u32) -> String {
        let digits = b"0123456789abcdefghijklmnopqrstuvwxyz";
        let mut out = Vec::new();
        loop {
            out.push(digits[(n % 36) as usize]);
            n /= 36;
            if n == 0 {
                break;
            }
        }
        out.reverse();
        String::from_utf8_lossy(&out).into_owned()
    }
    format!(
        "t{}x{}{suffix}",
        base36(std::process::id()),
        base36(next_id())
    )
}

#[derive(Debug, Default, Clone)]
struct EndSpec {
    name: Option<String>,
    netns: Option<String>,
    addrs: Vec<String>,
}

/// Builder for [`VethPair`]; start with [`VethPair::builder`].
#[derive(Debug, Clone)]
#[must_use]
pub struct VethBuilder {
    a: EndSpec,
    b: EndSpec,
    tx_queues: u32,
    up: bool,
}

/// A veth pair, each end in a namespace of its choice, deleted when dropped (deleting one end
/// deletes both; if a namespace went first, the pair went with it).
///
/// ```no_run
/// # fn main() -> tsn_testbed::Result<()> {
/// use tsn_testbed::{Netns, VethPair};
/// let (ns1, ns2) = (Netns::new("tb-doc")?, Netns::new("tb-doc")?);
/// let veth = VethPair::builder()
///     .a_netns(&ns1).a_name("eth0").a_addr("10.0.0.1/24")
///     .b_netns(&ns2).b_name("eth0").b_addr("10.0.0.2/24")
///     .tx_queues(4)
///     .create()?;
/// assert_eq!(veth.a().num_tx_queues()?, 4);
/// ns1.ping("10.0.0.2")?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct VethPair {
    a: Link,
    b: Link,
}

impl VethPair {
    /// Starts a builder: both ends in the test process's namespace, generated unique names,
    /// one tx queue, no addresses, brought up.
    pub fn builder() -> VethBuilder {
        VethBuilder {
            a: EndSpec::default(),
            b: EndSpec::default(),
            tx_queues: 1,
            up: true,
        }
    }

    /// End A.
    pub fn a(&self) -> &Link {
        &self.a
    }

    /// End B.
    pub fn b(&self) -> &Link {
        &self.b
    }
}

impl VethBuilder {
    /// Puts end A in `netns`.
    pub fn a_netns(mut self, netns: &Netns) -> Self {
        self.a.netns = Some(netns.name().to_owned());
        self
    }

    /// Puts end B in `netns`.
    pub fn b_netns(mut self, netns: &Netns) -> Self {
        self.b.netns = Some(netns.name().to_owned());
        self
    }

    /// Names end A (at most 15 bytes; must be free in its namespace).
    pub fn a_name(mut self, name: &str) -> Self {
        self.a.name = Some(name.to_owned());
        self
    }

    /// Names end B.
    pub fn b_name(mut self, name: &str) -> Self {
        self.b.name = Some(name.to_owned());
        self
    }

    /// Adds an address to end A, e.g. `10.0.0.1/24` or `fd00::1/64`.
    pub fn a_addr(mut self, cidr: &str) -> Self {
        self.a.addrs.push(cidr.to_owned());
        self
    }

    /// Adds an address to end B.
    pub fn b_addr(mut self, cidr: &str) -> Self {
        self.b.addrs.push(cidr.to_owned());
        self
    }

    /// Number of tx (and rx) queues on both ends; taprio and mqprio need more than one.
    pub fn tx_queues(mut self, n: u32) -> Self {
        self.tx_queues = n;
        self
    }

    /// Whether to bring both ends up (default: yes).
    pub fn up(mut self, up: bool) -> Self {
        self.up = up;
        self
    }

    /// Creates the pair, assigns the addresses and brings it up. On error, whatever was created
    /// is deleted again.
    pub fn create(self) -> Result<VethPair> {
        if self.tx_queues == 0 || self.tx_queues > 4096 {
            return Err(Error::Invalid(format!(
                "tx_queues {}: use 1-4096",
                self.tx_queues
            )));
        }
        let a_name = self.a.name.clone().unwrap_or_else(|| auto_ifname("a"));
        let b_name = self.b.name.clone().unwrap_or_else(|| auto_ifname("b"));
        check_ifname(&a_name)?;
        check_ifname(&b_name)?;
        if a_name == b_name && self.a.netns == self.b.netns {
            return Err(Error::Invalid(format!(
                "both veth ends named {a_name} in one namespace"
            )));
        }
        let q = self.tx_queues.to_string();
        let mut cmd = Command::new("ip");
        cmd.args(["link", "add", &a_name]);
        if let Some(ns) = &self.a.netns {
            cmd.args(["netns", ns]);
        }
        cmd.args([
            "numtxqueues",
            &q,
            "numrxqueues",
            &q,
            "type",
            "veth",
            "peer",
            "name",
            &b_name,
        ]);
        if let Some(ns) = &self.b.netns {
            cmd.args(["netns", ns]);
        }
        cmd.args(["numtxqueues", &q, "numrxqueues", &q]);
        run_checked(&mut cmd)?;
        let pair = VethPair {
            a: Link {
                name: a_name,
                netns: self.a.netns,
            },
            b: Link {
                name: b_name,
                netns: self.b.netns,
            },
        };
        for (end, addrs) in [(&pair.a, &self.a.addrs), (&pair.b, &self.b.addrs)] {
            for addr in addrs {
                end.add_addr(addr)?;
            }
            if self.up {
                end.set_up()?;
            }
        }
        Ok(pair)
    }
}

impl Drop for VethPair {
    fn drop(&mut self) {
        self.a.delete_quietly("veth");
    }
}

/// Builder for [`Bridge`]; start with [`Bridge::builder`].
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct BridgeBuilder {
    name: Option<String>,
    netns: Option<String>,
    vlan_filtering: bool,
    args: Vec<String>,
}

/// A Linux bridge, deleted when dropped (its ports are released, not deleted).
///
/// ```no_run
/// # fn main() -> tsn_testbed::Result<()> {
/// use tsn_testbed::{Bridge, Netns, VethPair};
/// let sw = Netns::new("tb-doc")?;
/// let br = Bridge::builder().netns(&sw).name("br0").create()?;
/// let port = VethPair::builder().a_netns(&sw).create()?;
/// br.add_port(port.a())?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Bridge {
    link: Link,
}

impl Bridge {
    /// Starts a builder: generated unique name, the test process's namespace, kernel defaults.
    pub fn builder() -> BridgeBuilder {
        BridgeBuilder::default()
    }

    /// The bridge interface.
    pub fn link(&self) -> &Link {
        &self.link
    }

    /// The bridge's name.
    pub fn name(&self) -> &str {
        &self.link.name
    }

    /// Enslaves `port` (which must live in the bridge's namespace) and brings it up.
    pub fn add_port(&self, port: &Link) -> Result<()> {
        if port.netns != self.link.netns {
            return Err(Error::Invalid(format!(
                "port {} is in netns {:?}, bridge {} in {:?}",
                port.name, port.netns, self.link.name, self.link.netns
            )));
        }
        port.ip(&["link", "set", "dev", &port.name, "master", &self.link.name])?;
        port.set_up()
    }

    /// Names of the enslaved ports.
    pub fn ports(&self) -> Result<Vec<String>> {
        let mut cmd = ip_in(self.link.netns());
        cmd.args(["-j", "link", "show", "master", &self.link.name]);
        let out = run_checked(&mut cmd)?.stdout;
        let v: serde_json::Value = serde_json::from_str(&out).map_err(|e| Error::Parse {
            cmd: cmd::display(&cmd),
            reason: e.to_string(),
        })?;
        Ok(v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l.get("ifname").and_then(serde_json::Value::as_str))
            .map(str::to_owned)
            .collect())
    }

    /// Runs `bridge [-n <netns>] args...` (iproute2's bridge tool) and returns stdout.
    pub fn bridge_cmd(&self, args: &[&str]) -> Result<String> {
        let mut cmd = Command::new("bridge");
        if let Some(ns) = self.link.netns() {
            cmd.args(["-n", ns]);
        }
        Ok(run_checked(cmd.args(args))?.stdout)
    }
}

impl BridgeBuilder {
    /// Creates the bridge in `netns`.
    pub fn netns(mut self, netns: &Netns) -> Self {
        self.netns = Some(netns.name().to_owned());
        self
    }

    /// Names the bridge (at most 15 bytes).
    pub fn name(mut self, name: &str) -> Self {
        self.name = Some(name.to_owned());
        self
    }

    /// `vlan_filtering 1` (needs `CONFIG_BRIDGE_VLAN_FILTERING`: the VM kernel has it, the
    /// development/CI kernel does not). Off means the attribute is not sent at all, so an
    /// ordinary bridge works on kernels without the option.
    pub fn vlan_filtering(mut self, on: bool) -> Self {
        self.vlan_filtering = on;
        self
    }

    /// Any other `ip link add ... type bridge` argument, e.g. `.arg("stp_state").arg("0")`.
    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.to_owned());
        self
    }

    /// Creates the bridge and brings it up. On error, whatever was created is deleted again.
    pub fn create(self) -> Result<Bridge> {
        let name = self.name.unwrap_or_else(|| auto_ifname("br"));
        check_ifname(&name)?;
        let mut cmd = ip_in(self.netns.as_deref());
        cmd.args(["link", "add", &name, "type", "bridge"]);
        if self.vlan_filtering {
            cmd.args(["vlan_filtering", "1"]);
        }
        cmd.args(&self.args);
        run_checked(&mut cmd)?;
        let br = Bridge {
            link: Link {
                name,
                netns: self.netns,
            },
        };
        br.link.set_up()?;
        Ok(br)
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.link.delete_quietly("bridge");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_names_fit_and_differ() {
        let (x, y) = (auto_ifname("br"), auto_ifname("br"));
        assert_ne!(x, y);
        for n in [x, y] {
            check_ifname(&n).unwrap();
        }
    }

    #[test]
    fn bad_names_are_rejected_before_running_anything() {
        for bad in ["", "sixteen-chars-xx", "a b", "a/b"] {
            assert!(check_ifname(bad).is_err(), "{bad:?}");
        }
        let err = VethPair::builder().tx_queues(0).create().unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "{err}");
    }
}

//! Making a VM (`VmHost::create`): claim the name, the assets, the image's
//! base disk, the home disk (kept one reused), the root overlay, then the
//! record (its presence says the VM is complete). On failure everything made
//! here is removed, never a home disk this create did not make.
use super::host::{check_name, ssh_host, VmHost};
use super::record::{self, private_dir, remove_dir_if_exists, Layout};
use super::tools::blocking;
use super::{assets, base_disk, disks, VmCreate, VmRecord};
use crate::domain::vm::{ACCEL_LABEL, PROVIDER_LABEL};
use crate::engine::{Engine, EngineError, EngineResult};
use tokio::sync::mpsc;

async fn say(progress: &Option<mpsc::Sender<String>>, line: &str) {
    if let Some(p) = progress {
        let _ = p.send(line.to_string()).await;
    }
}

fn io(e: std::io::Error) -> EngineError {
    EngineError::Api(e.to_string())
}

/// The `known_hosts` line pinning `key` at `host:port`.
pub fn known_hosts_line(host: &str, port: u16, key: &str) -> String {
    let mut f = key.split_whitespace();
    let kind = f.next().unwrap_or_default();
    let body = f.next().unwrap_or_default();
    let host = if port == 22 {
        host.to_string()
    } else {
        format!("[{host}]:{port}")
    };
    format!("{host} {kind} {body}\n")
}

pub(super) async fn create(
    host: &VmHost,
    docker: &dyn Engine,
    req: VmCreate,
    progress: Option<mpsc::Sender<String>>,
) -> EngineResult<VmRecord> {
    check_name(&req.container)?;
    check_name(&req.volume)?;
    super::qemu_args::authkey_param(&req.authorized_key).map_err(EngineError::Api)?;
    let layout = host.layout();
    let id = record::new_id().map_err(io)?;
    super::qemu_args::check_machine_dir(&layout.machine(&id)).map_err(EngineError::Api)?;
    blocking("checking the host's programs", || {
        Ok(super::tools::preflight())
    })
    .await??;
    let (l, c, i) = (layout.clone(), req.container.clone(), id.clone());
    let claimed = blocking("claiming the VM's name", move || {
        private_dir(&l.machines())?;
        private_dir(&l.homes())?;
        // makes the machine's directory with the claim
        l.claim_name(&c, &i)
    })
    .await?;
    if !claimed {
        return Err(EngineError::Conflict(format!(
            "a VM named {} exists already; pick another name or remove it",
            req.container
        )));
    }
    let mut made_home = false;
    let r = build(host, docker, &req, &id, &progress, &mut made_home).await;
    if r.is_err() {
        let (l, c, i, v) = (
            layout.clone(),
            req.container.clone(),
            id.clone(),
            req.volume.clone(),
        );
        let undo = blocking("undoing the VM's create", move || {
            remove_dir_if_exists(&l.machine(&i))?;
            if made_home {
                remove_dir_if_exists(&l.home(&v))?;
            }
            l.release_name(&c, &i)
        })
        .await;
        if let Err(e) = undo {
            tracing::warn!("cleaning up after a failed VM create: {e}");
        }
    }
    r
}

async fn build(
    host: &VmHost,
    docker: &dyn Engine,
    req: &VmCreate,
    id: &str,
    progress: &Option<mpsc::Sender<String>>,
    made_home: &mut bool,
) -> EngineResult<VmRecord> {
    let layout = host.layout();
    let kernel = assets::ensure_kernel(host.cache(), progress).await?;
    assets::ensure_initrd(host.cache(), &kernel, progress).await?;
    let base = base_disk::ensure(docker, host.cache(), &req.image, progress).await?;
    let kept = reuse_home(host, &layout, req).await?;
    let home = match kept {
        Some(h) => {
            say(
                progress,
                &format!("reusing the kept home disk {}", req.volume),
            )
            .await;
            h
        }
        None => {
            say(progress, "making the home disk").await;
            let h = disks::make_home(
                &layout,
                &req.volume,
                &base.home_tar,
                req.shape.disk_bytes,
                req.labels.clone(),
            )
            .await?;
            *made_home = true;
            h
        }
    };
    let dir = layout.machine(id);
    disks::make_overlay(&base.disk, &dir.join("root.qcow2")).await?;
    let mut labels = req.labels.clone();
    labels
        .entry(PROVIDER_LABEL.to_string())
        .or_insert_with(|| "vm".to_string());
    labels
        .entry(ACCEL_LABEL.to_string())
        .or_insert_with(|| req.shape.accel.as_str().to_string());
    let rec = VmRecord {
        id: id.to_string(),
        container: req.container.clone(),
        hostname: req.hostname.clone(),
        volume: req.volume.clone(),
        image: req.image.clone(),
        image_id: base.image_id.clone(),
        labels,
        env: req.env.clone(),
        created: record::now(),
        ssh_port: req.ssh_port,
        ports: req.ports.iter().map(|p| (p.host, p.container)).collect(),
        bind_address: req.bind_address,
        shape: req.shape,
        authorized_key: req.authorized_key.clone(),
        workdir: req.workdir.clone(),
        host_key_pub: home.host_key_pub,
    };
    let known = known_hosts_line(&ssh_host(rec.bind_address), rec.ssh_port, &rec.host_key_pub);
    let (l, r) = (layout.clone(), rec.clone());
    blocking("writing the VM's record", move || {
        std::fs::write(l.machine(&r.id).join("known_hosts"), known)?;
        l.write_record(&r)
    })
    .await?;
    Ok(rec)
}

/// The kept home disk `req.volume`, if there is one; `Conflict` when another VM uses it.
async fn reuse_home(
    host: &VmHost,
    layout: &Layout,
    req: &VmCreate,
) -> EngineResult<Option<record::HomeRecord>> {
    let (l, v) = (layout.clone(), req.volume.clone());
    let Some(home) = blocking("reading the home disk", move || l.read_home(&v)).await? else {
        return Ok(None);
    };
    if let Some(other) = host
        .list()
        .await?
        .into_iter()
        .find(|r| r.volume == req.volume && r.container != req.container)
    {
        return Err(EngineError::Conflict(format!(
            "home disk {} is in use by {}",
            req.volume, other.container
        )));
    }
    Ok(Some(home))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_hosts_pins_the_key_at_the_port() {
        assert_eq!(
            known_hosts_line("127.0.0.1", 2201, "ssh-ed25519 AAAA berth-workspace"),
            "[127.0.0.1]:2201 ssh-ed25519 AAAA\n"
        );
        assert_eq!(
            known_hosts_line("h", 22, "ssh-ed25519 AAAA"),
            "h ssh-ed25519 AAAA\n"
        );
    }
}

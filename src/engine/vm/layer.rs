//! The engine berth uses on this machine (contract; filled in by the VM layer
//! work): containers and images on the Docker engine, VM workspaces on
//! [`VmHost`]. Every call naming a VM's container (or its home disk) goes to
//! the VM; everything else to Docker.
#![allow(dead_code)]
use super::host::VmHost;
use crate::engine::Engine;
use std::path::PathBuf;
use std::sync::Arc;

pub struct VmLayer {
    docker: Arc<dyn Engine>,
    vms: Arc<VmHost>,
    /// berth's private key (`ssh_identity::key_path`) for exec over ssh.
    identity: PathBuf,
}

//! The jobs lock with two handles on one file in one process (flock locks belong
//! to open files, so the second handle is refused like another process would be).
use super::lock::*;
use crate::store::Creator;

fn owner(kind: Kind) -> Owner {
    Owner::me(kind, 1_700_000_000)
}

#[test]
fn the_second_holder_is_refused_and_sees_the_first_ones_record() {
    let dir = tempfile::tempdir().unwrap();
    let p = path(dir.path());
    assert_eq!(peek_blocking(&p).unwrap(), Holder::Nobody);
    let Attempt::Held(first) = try_acquire_blocking(&p, owner(Kind::Daemon)).unwrap() else {
        panic!("a free lock is taken")
    };
    let Attempt::Taken(h) = try_acquire_blocking(&p, owner(Kind::Tui)).unwrap() else {
        panic!("a held lock is refused")
    };
    assert_eq!(h, Holder::Held(Some(owner(Kind::Daemon))));
    assert_eq!(
        h.describe(),
        format!("daemon pid {}", Creator::current().pid)
    );
    assert_eq!(peek_blocking(&p).unwrap(), h, "peeking does not take it");
    assert!(first.owner.alive_blocking());
    drop(first);
    // Released on drop: the next one takes it and its record replaces the old one.
    assert_eq!(peek_blocking(&p).unwrap(), Holder::Nobody);
    let Attempt::Held(second) = try_acquire_blocking(&p, owner(Kind::Tui)).unwrap() else {
        panic!("a released lock is taken")
    };
    assert_eq!(
        peek_blocking(&p).unwrap(),
        Holder::Held(Some(owner(Kind::Tui)))
    );
    second.release_blocking();
    assert_eq!(peek_blocking(&p).unwrap(), Holder::Nobody);
    assert_eq!(std::fs::read_to_string(&p).unwrap(), "", "record cleared");
}

#[test]
fn a_longer_old_record_does_not_spoil_a_new_one_and_the_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let p = path(&dir.path().join("state"));
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, format!("{}{}", " ".repeat(10), "x".repeat(500))).unwrap();
    let Attempt::Held(l) = try_acquire_blocking(&p, owner(Kind::Once)).unwrap() else {
        panic!("free")
    };
    let Attempt::Taken(h) = try_acquire_blocking(&p, owner(Kind::Daemon)).unwrap() else {
        panic!("held")
    };
    assert_eq!(h, Holder::Held(Some(owner(Kind::Once))));
    drop(l);
    let dir2 = tempfile::tempdir().unwrap();
    let p2 = path(&dir2.path().join("new"));
    let Attempt::Held(_l) = try_acquire_blocking(&p2, owner(Kind::Daemon)).unwrap() else {
        panic!("free")
    };
    let mode = std::fs::metadata(&p2).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
}

#[test]
fn an_unreadable_record_still_says_the_lock_is_held() {
    let dir = tempfile::tempdir().unwrap();
    let p = path(dir.path());
    let Attempt::Held(l) = try_acquire_blocking(&p, owner(Kind::Daemon)).unwrap() else {
        panic!("free")
    };
    std::fs::write(&p, "").unwrap();
    let h = peek_blocking(&p).unwrap();
    assert_eq!(h, Holder::Held(None));
    assert_eq!(h.describe(), "another berth process");
    drop(l);
}

#[tokio::test]
async fn the_async_calls_take_and_peek_on_blocking_threads() {
    let dir = tempfile::tempdir().unwrap();
    let Attempt::Held(l) = try_acquire(dir.path(), Kind::Tui).await.unwrap() else {
        panic!("free")
    };
    let Holder::Held(Some(o)) = peek(dir.path()).await.unwrap() else {
        panic!("held")
    };
    assert_eq!((o.kind, o.pid), (Kind::Tui, std::process::id()));
    l.release().await;
    assert_eq!(peek(dir.path()).await.unwrap(), Holder::Nobody);
}

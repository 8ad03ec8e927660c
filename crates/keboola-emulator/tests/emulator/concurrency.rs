//! Many parallel requests: correct answers, and latency sleeps that do not serialize.

use std::time::Instant;

use keboola_emulator::Fault;

use crate::common::{Client, start, start_with};

#[test]
fn two_hundred_parallel_requests_are_all_correct() {
    let emu = start_with(keboola_emulator::EmulatorOptions {
        projects: 4,
        ..Default::default()
    });
    let c = Client::new(&emu);
    let projects = emu.projects();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..20)
            .map(|thread| {
                let c = &c;
                s.spawn(move || {
                    for i in 0..10 {
                        let p = &projects[(thread + i) % projects.len()];
                        let token = match i % 4 {
                            0 => &p.tokens.admin,
                            1 => &p.tokens.guest,
                            2 => &p.tokens.read_only,
                            _ => &p.tokens.storage,
                        };
                        let v = c.get("/v2/storage/tokens/verify", token).json();
                        assert_eq!(v["owner"]["id"], p.id);
                        assert_eq!(v["token"], token.as_str());
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
    });
    assert_eq!(emu.requests().len(), 200);
    assert!(emu.requests().iter().all(|r| r.status == 200));
}

#[test]
fn latency_sleeps_do_not_serialize_requests() {
    let emu = start();
    emu.set_latency_ms(100);
    let c = Client::new(&emu);
    let token = &emu.projects()[0].tokens.admin;
    let started = Instant::now();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..50)
            .map(|_| s.spawn(|| c.get("/v2/storage/tokens/verify", token).status))
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap(), 200);
        }
    });
    let elapsed = started.elapsed();
    println!("50 concurrent verifies with 100 ms latency took {elapsed:?}");
    // Serialized handling would need at least 50 x 100 ms.
    assert!(elapsed.as_millis() < 5000, "{elapsed:?}");
}

#[test]
fn a_stalled_request_does_not_block_others() {
    let emu = start();
    let c = Client::new(&emu);
    let token = emu.projects()[0].tokens.admin.clone();
    emu.add_fault(Fault {
        path: "/v2/storage/tokens".into(),
        latency_ms: Some(600_000),
        times: Some(1),
        ..Fault::default()
    });
    let stalled = {
        let base = c.base.clone();
        let token = token.clone();
        std::thread::spawn(move || {
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into();
            agent
                .get(format!("{base}/v2/storage/tokens"))
                .header("X-StorageApi-Token", &token)
                .call()
                .is_ok()
        })
    };
    // Wait until the stalled request has taken the fault (it is removed after one use).
    while !c
        .get_anon("/_emulator/faults")
        .json()
        .as_array()
        .unwrap()
        .is_empty()
    {
        std::thread::yield_now();
    }
    for _ in 0..5 {
        assert_eq!(c.get("/v2/storage/tokens/verify", &token).status, 200);
    }
    // Stopping the emulator closes the stalled connection.
    drop(emu);
    assert!(
        !stalled.join().unwrap(),
        "the stalled request must not have completed"
    );
}

//! [`BlackHole`]: a TCP listener on a free loopback port that accepts every connection and never
//! answers, the unlucky operator's DynamoDB or SSM endpoint (a firewall that drops, a proxy that
//! hangs). It counts the connections it accepted, so a test can bound how often a client tried.
//!
//! ```no_run
//! use votecheck_end_to_end::black_hole::BlackHole;
//!
//! let hole = BlackHole::start();
//! // point AWS_ENDPOINT_URL_DYNAMODB at hole.endpoint() ...
//! assert!(hole.connections() <= 2);
//! ```

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// A running black hole; closes every connection it holds when dropped.
pub struct BlackHole {
    address: String,
    accepted: Arc<AtomicUsize>,
    stopping: Arc<AtomicBool>,
    held: Arc<Mutex<Vec<TcpStream>>>,
    acceptor: Option<JoinHandle<()>>,
}

impl BlackHole {
    /// Binds a free loopback port and starts swallowing connections.
    pub fn start() -> BlackHole {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind a loopback port");
        let address = listener
            .local_addr()
            .expect("the listener's address")
            .to_string();
        let accepted = Arc::new(AtomicUsize::new(0));
        let stopping = Arc::new(AtomicBool::new(false));
        let held = Arc::new(Mutex::new(Vec::new()));
        let acceptor = {
            let (accepted, stopping, held) = (accepted.clone(), stopping.clone(), held.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    accepted.fetch_add(1, Ordering::SeqCst);
                    // Held open, never read or written: the client waits for an answer.
                    held.lock().expect("held connections").push(stream);
                }
            })
        };
        BlackHole {
            address,
            accepted,
            stopping,
            held,
            acceptor: Some(acceptor),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// How many connections were accepted so far.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for BlackHole {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(&self.address);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        if let Ok(mut held) = self.held.lock() {
            held.clear();
        }
    }
}

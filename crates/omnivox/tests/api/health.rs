use omnivox_testkit::{both_backends, TestDb};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{error_of, spawn_app};

async fn health_readiness_and_metrics_answer(db: TestDb) {
    let app = spawn_app(db).await;
    let r = app.get("/healthz", None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let ready: Value = app.get("/readyz", None).await.json().await.unwrap();
    assert_eq!(ready["status"], "ready");
    assert_eq!(ready["database"], app.backend().as_str());
    let metrics = app.get("/metrics", None).await;
    assert_eq!(metrics.status(), StatusCode::OK);
    assert!(metrics.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = metrics.text().await.unwrap();
    assert!(text.contains("omnivox_http_requests_total"), "{text}");
    app.stop().await;
}

async fn unknown_routes_and_oversized_bodies_get_json_errors(db: TestDb) {
    let app = spawn_app(db).await;
    let (status, code, _) = error_of(app.get("/api/nothing-here", None).await).await;
    assert_eq!((status, code.as_str()), (StatusCode::NOT_FOUND, "not_found"));

    // A body declared too large is refused from its headers alone. Over
    // raw TCP, since the server may answer and close before a client that
    // insists on sending 2 MiB has finished writing (a broken pipe).
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut socket = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let head = "POST /api/auth/login HTTP/1.1\r\nHost: omnivox.test\r\nContent-Type: application/json\r\n\
                Content-Length: 2097152\r\n\r\n";
    socket.write_all(head.as_bytes()).await.unwrap();
    socket.write_all(&[b'x'; 4096]).await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = socket.read(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("payload_too_large"), "{answer}");

    let (status, code, message) = error_of(
        app.client
            .post(app.url("/api/auth/login"))
            .header("content-type", "application/json")
            .body("{not json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (StatusCode::BAD_REQUEST, "bad_request"), "{message}");
    app.stop().await;
}

both_backends!(health_readiness_and_metrics_answer, unknown_routes_and_oversized_bodies_get_json_errors);

//! The batch read/write helpers on the real engine: more than one chunk each way.

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use switchboard_store::batch::{get_all, write_all};
use switchboard_tests::Stack;

#[tokio::test]
async fn writes_and_reads_back_more_than_a_chunk() {
    let s = Stack::start().await;
    let client = s.engine.client();
    let items: Vec<_> = (0..130)
        .map(|i| {
            let mut key = switchboard_store::keys::number(&format!("+4420799{i:05}"));
            key.insert("n".into(), AttributeValue::N(i.to_string()));
            WriteRequest::builder().put_request(PutRequest::builder().set_item(Some(key)).build().unwrap()).build()
        })
        .collect();
    write_all(&client, &s.table, items).await.unwrap();
    let keys: Vec<_> = (0..140).map(|i| switchboard_store::keys::number(&format!("+4420799{i:05}"))).collect();
    let got = get_all(&client, &s.table, keys).await.unwrap();
    assert_eq!(got.len(), 130, "the ten keys never written are simply absent");
}

//! Pure validators of single responses against targets/API.md: status,
//! exact content types, exact compact JSON bodies, `world` rows, `/io` and
//! `/cpu` answers, fortune order and content, update persistence. Each
//! returns `Err(detail)` saying what was seen; none sends a request.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use super::fortunes;
use super::probe::Fetched;

/// The three exact `Content-Type` values of the contract.
pub(crate) const TEXT: &str = "text/plain; charset=utf-8";
pub(crate) const JSON: &str = "application/json; charset=utf-8";
pub(crate) const HTML: &str = "text/html; charset=utf-8";

const ROW_RANGE: std::ops::RangeInclusive<i64> = 1..=10_000;

/// A body shortened for a failure message.
pub(crate) fn preview(body: &[u8]) -> String {
    const MAX: usize = 120;
    let text = String::from_utf8_lossy(body);
    let mut short: String = text.chars().take(MAX).collect();
    if text.chars().count() > MAX {
        short.push('…');
    }
    format!("{short:?}")
}

pub(crate) fn status(f: &Fetched, want: u16) -> Result<(), String> {
    if f.status == want {
        Ok(())
    } else {
        Err(format!(
            "status {} (want {want}), body {}",
            f.status,
            preview(&f.body)
        ))
    }
}

/// `Content-Type` is exactly `want` (one of [`TEXT`], [`JSON`], [`HTML`]).
pub(crate) fn content_type(f: &Fetched, want: &str) -> Result<(), String> {
    let ct = f.header("content-type");
    if ct == want {
        Ok(())
    } else {
        Err(format!("Content-Type is {ct:?} (want {want:?})"))
    }
}

pub(crate) fn exact_body(f: &Fetched, want: &[u8]) -> Result<(), String> {
    if f.body.as_ref() == want {
        Ok(())
    } else {
        Err(format!(
            "body {} (want {})",
            preview(&f.body),
            preview(want)
        ))
    }
}

/// Status 200, JSON content type and exactly `want` as the body.
pub(crate) fn json_answer(f: &Fetched, want: &str) -> Result<(), String> {
    status(f, 200)?;
    content_type(f, JSON)?;
    exact_body(f, want.as_bytes())
}

pub(crate) fn count(got: usize, want: usize) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{got} rows (want {want})"))
    }
}

fn parse_json(f: &Fetched) -> Result<Value, String> {
    serde_json::from_slice(&f.body).map_err(|e| format!("not JSON ({e}): {}", preview(&f.body)))
}

/// An object with exactly the given keys, all integers; returns them in
/// key order.
fn int_object(v: &Value, keys: &[&str]) -> Result<Vec<i64>, String> {
    let obj = v.as_object().ok_or_else(|| format!("not an object: {v}"))?;
    if obj.len() != keys.len() || !keys.iter().all(|k| obj.contains_key(*k)) {
        let got: Vec<&String> = obj.keys().collect();
        return Err(format!("keys {got:?} (want exactly {keys:?})"));
    }
    keys.iter()
        .map(|k| {
            obj[*k]
                .as_i64()
                .ok_or_else(|| format!("{k} is {} (want an integer)", obj[*k]))
        })
        .collect()
}

fn world_row(v: &Value) -> Result<(i64, i64), String> {
    let vals = int_object(v, &["id", "randomNumber"])?;
    let (id, n) = (vals[0], vals[1]);
    if !ROW_RANGE.contains(&id) {
        return Err(format!("id {id} outside 1..=10000"));
    }
    if !ROW_RANGE.contains(&n) {
        return Err(format!("randomNumber {n} outside 1..=10000 (id {id})"));
    }
    Ok((id, n))
}

/// The compact serialization the contract requires for one row.
fn row_json(&(id, n): &(i64, i64)) -> String {
    format!(r#"{{"id":{id},"randomNumber":{n}}}"#)
}

/// A `/db` answer: 200, JSON, one well-formed row, compact and in key
/// order.
pub(crate) fn db_answer(f: &Fetched) -> Result<(i64, i64), String> {
    status(f, 200)?;
    content_type(f, JSON)?;
    let row = world_row(&parse_json(f)?)?;
    exact_body(f, row_json(&row).as_bytes()).map_err(|e| format!("not compact: {e}"))?;
    Ok(row)
}

/// A `/queries` or `/updates` answer: 200, JSON, an array of exactly
/// `want` well-formed rows, compact and in key order.
pub(crate) fn rows_answer(f: &Fetched, want: usize) -> Result<Vec<(i64, i64)>, String> {
    status(f, 200)?;
    content_type(f, JSON)?;
    let v = parse_json(f)?;
    let arr = v
        .as_array()
        .ok_or_else(|| format!("not an array: {}", preview(&f.body)))?;
    count(arr.len(), want)?;
    let rows = arr
        .iter()
        .enumerate()
        .map(|(i, r)| world_row(r).map_err(|e| format!("row {}: {e}", i + 1)))
        .collect::<Result<Vec<_>, _>>()?;
    let compact = format!(
        "[{}]",
        rows.iter().map(row_json).collect::<Vec<_>>().join(",")
    );
    exact_body(f, compact.as_bytes()).map_err(|e| format!("not compact: {e}"))?;
    Ok(rows)
}

/// Ids strictly ascending, hence distinct.
pub(crate) fn ascending_distinct(rows: &[(i64, i64)]) -> Result<(), String> {
    match rows.windows(2).find(|w| w[0].0 >= w[1].0) {
        None => Ok(()),
        Some(w) if w[0].0 == w[1].0 => Err(format!("id {} returned twice", w[0].0)),
        Some(w) => Err(format!("id {} comes before id {}", w[0].0, w[1].0)),
    }
}

/// Every returned row's new value is what the database holds now.
pub(crate) fn persisted(rows: &[(i64, i64)], stored: &BTreeMap<i64, i64>) -> Result<(), String> {
    let wrong: Vec<String> = rows
        .iter()
        .filter_map(|&(id, n)| match stored.get(&id) {
            Some(s) if *s == n => None,
            Some(s) => Some(format!("id {id}: returned {n}, stored {s}")),
            None => Some(format!("id {id}: not in table world")),
        })
        .collect();
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join("; "))
    }
}

/// Every returned row's new value differs from the value it had before.
pub(crate) fn changed(rows: &[(i64, i64)], before: &BTreeMap<i64, i64>) -> Result<(), String> {
    let same: Vec<String> = rows
        .iter()
        .filter(|(id, n)| before.get(id) == Some(n))
        .map(|(id, n)| format!("id {id} kept {n}"))
        .collect();
    if same.is_empty() {
        Ok(())
    } else {
        Err(same.join("; "))
    }
}

/// An `/io` answer: 200, exactly `{"slept_ms":want}`, and it took at
/// least that long.
pub(crate) fn slept(f: &Fetched, want: u64) -> Result<(), String> {
    json_answer(f, &format!(r#"{{"slept_ms":{want}}}"#))?;
    if f.elapsed < Duration::from_millis(want) {
        return Err(format!(
            "answered after {} ms, before the {want} ms wait was over",
            f.elapsed.as_millis()
        ));
    }
    Ok(())
}

/// A `/cpu` answer: 200, exactly `{"rounds":K,"digest":"<our digest>"}`.
pub(crate) fn cpu_answer(f: &Fetched, rounds: u32) -> Result<(), String> {
    let digest = super::cpu_digest(rounds);
    json_answer(f, &format!(r#"{{"rounds":{rounds},"digest":"{digest}"}}"#))
}

pub(crate) fn sorted(rows: &[fortunes::Row]) -> Result<(), String> {
    match rows.windows(2).find(|w| w[0].message > w[1].message) {
        None => Ok(()),
        Some(w) => Err(format!(
            "{:?} comes before {:?}",
            w[0].message, w[1].message
        )),
    }
}

/// The rows are the seeded fortunes plus the added one, in any order.
pub(crate) fn same_fortunes(rows: &[fortunes::Row]) -> Result<(), String> {
    let got: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.id.clone(), r.message.clone()))
        .collect();
    let want: Vec<(String, String)> = fortunes::expected_rows()
        .into_iter()
        .map(|(id, m)| (id.to_string(), m))
        .collect();
    let missing: Vec<String> = want
        .iter()
        .filter(|w| !got.contains(w))
        .map(|(id, m)| format!("{id}: {m:?}"))
        .collect();
    let extra: Vec<String> = got
        .iter()
        .filter(|g| !want.contains(g))
        .map(|(id, m)| format!("{id}: {m:?}"))
        .collect();
    if missing.is_empty() && extra.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "missing [{}], unexpected [{}]",
            missing.join(", "),
            extra.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fetched(body: &str, ct: &str) -> Fetched {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("content-type", ct.parse().unwrap());
        Fetched {
            status: 200,
            version: reqwest::Version::HTTP_11,
            headers,
            body: bytes::Bytes::from(body.to_string()),
            elapsed: Duration::from_millis(1),
        }
    }

    #[test]
    fn world_rows_are_strict() {
        let ok = serde_json::json!({"id": 3, "randomNumber": 10000});
        assert_eq!(world_row(&ok).unwrap(), (3, 10000));
        for bad in [
            serde_json::json!({"id": 0, "randomNumber": 5}),
            serde_json::json!({"id": 3, "randomnumber": 5}),
            serde_json::json!({"id": 3, "randomNumber": 5.5}),
            serde_json::json!({"id": 3, "randomNumber": 5, "x": 1}),
            serde_json::json!([3, 5]),
        ] {
            assert!(world_row(&bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn db_and_rows_must_be_compact_with_exact_type() {
        assert_eq!(
            db_answer(&fetched(r#"{"id":3,"randomNumber":7}"#, JSON)).unwrap(),
            (3, 7)
        );
        assert!(db_answer(&fetched(r#"{"id": 3, "randomNumber": 7}"#, JSON)).is_err());
        assert!(db_answer(&fetched(r#"{"randomNumber":7,"id":3}"#, JSON)).is_err());
        assert!(db_answer(&fetched(r#"{"id":3,"randomNumber":7}"#, "application/json")).is_err());
        let two = r#"[{"id":1,"randomNumber":2},{"id":3,"randomNumber":4}]"#;
        assert_eq!(rows_answer(&fetched(two, JSON), 2).unwrap().len(), 2);
        assert!(rows_answer(&fetched(two, JSON), 3).is_err());
        assert!(rows_answer(&fetched(r#"{"id":1,"randomNumber":2}"#, JSON), 1).is_err());
    }

    #[test]
    fn io_must_not_answer_early() {
        let f = fetched(r#"{"slept_ms":0}"#, JSON);
        assert!(slept(&f, 0).is_ok());
        let early = fetched(r#"{"slept_ms":50}"#, JSON);
        assert!(slept(&early, 50).unwrap_err().contains("before"));
    }

    #[test]
    fn update_rows_ordered_persisted_changed() {
        assert!(ascending_distinct(&[(1, 5), (7, 2), (9, 9)]).is_ok());
        assert!(ascending_distinct(&[(7, 5), (1, 2)]).is_err());
        assert!(ascending_distinct(&[(7, 5), (7, 2)]).is_err());
        let rows = [(5, 10), (7, 20)];
        assert!(persisted(&rows, &BTreeMap::from([(5, 10), (7, 20)])).is_ok());
        let err = persisted(&rows, &BTreeMap::from([(5, 10), (7, 21)])).unwrap_err();
        assert!(err.contains("id 7"), "{err}");
        assert!(persisted(&rows, &BTreeMap::from([(5, 10)])).is_err());
        assert!(changed(&rows, &BTreeMap::from([(5, 1), (7, 1)])).is_ok());
        assert!(changed(&rows, &BTreeMap::from([(5, 1), (7, 20)])).is_err());
    }
}

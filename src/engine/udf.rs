//! Functions the local engine adds to DataFusion so the local dialect can say what Athena says
//! natively: `cidr_contains(block, ip)` is Trino's `contains(block, CAST(ip AS IPADDRESS))`.

use std::net::IpAddr;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, BooleanArray, StringArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use datafusion::common::{exec_err, Result, ScalarValue};
use datafusion::logical_expr::{
    ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use crate::net::Cidr;

/// `cidr_contains(block TEXT, ip TEXT) -> BOOLEAN`: whether the address lies in the CIDR block.
/// A NULL address gives NULL; text that is not an address gives false; a block that is not a
/// CIDR block is an error (blocks are validated before SQL is rendered, so this means a bug).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CidrContains {
    signature: Signature,
}

impl CidrContains {
    /// The function, ready to register.
    pub fn udf() -> ScalarUDF {
        ScalarUDF::from(CidrContains {
            signature: Signature::string(2, Volatility::Immutable),
        })
    }
}

fn utf8(array: &ArrayRef) -> Result<StringArray> {
    let plain = cast(array, &DataType::Utf8)?;
    Ok(plain
        .as_any()
        .downcast_ref::<StringArray>()
        .expect("cast to Utf8 gives a StringArray")
        .clone())
}

fn block(text: &str) -> Result<Cidr> {
    match Cidr::parse(text) {
        Ok(c) => Ok(c),
        Err(e) => exec_err!("cidr_contains: {text:?} is not a CIDR block: {e}"),
    }
}

fn address_in(block: &Cidr, ip: &str) -> bool {
    ip.parse::<IpAddr>().is_ok_and(|ip| block.contains(ip))
}

impl ScalarUDFImpl for CidrContains {
    fn name(&self) -> &str {
        "cidr_contains"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _args: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [blocks, ips] = args.args.as_slice() else {
            return exec_err!("cidr_contains takes two arguments: a CIDR block and an address");
        };
        // The common shape: a literal block and a column of addresses.
        if let ColumnarValue::Scalar(scalar) = blocks {
            let text = match scalar {
                ScalarValue::Utf8(Some(t))
                | ScalarValue::Utf8View(Some(t))
                | ScalarValue::LargeUtf8(Some(t)) => t.clone(),
                _ => return Ok(ColumnarValue::Scalar(ScalarValue::Boolean(None))),
            };
            let block = block(&text)?;
            return Ok(match ips {
                ColumnarValue::Array(array) => {
                    let ips = utf8(array)?;
                    let out: BooleanArray = ips
                        .iter()
                        // A NULL address is in no block, as on Athena.
                        .map(|ip| Some(ip.is_some_and(|ip| address_in(&block, ip))))
                        .collect();
                    ColumnarValue::Array(Arc::new(out))
                }
                ColumnarValue::Scalar(ip) => {
                    let ip = utf8(&ip.to_array()?)?;
                    ColumnarValue::Scalar(ScalarValue::Boolean(Some(
                        !ip.is_null(0) && address_in(&block, ip.value(0)),
                    )))
                }
            });
        }
        let rows = args.number_rows;
        let blocks = utf8(&blocks.to_array(rows)?)?;
        let ips = utf8(&ips.to_array(rows)?)?;
        let mut out = Vec::with_capacity(rows);
        for i in 0..rows {
            out.push(if blocks.is_null(i) {
                None
            } else if ips.is_null(i) {
                Some(false)
            } else {
                Some(address_in(&block(blocks.value(i))?, ips.value(i)))
            });
        }
        Ok(ColumnarValue::Array(Arc::new(BooleanArray::from(out))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::prelude::SessionContext;

    #[tokio::test]
    async fn what_is_not_an_address_is_in_no_block() {
        let ctx = SessionContext::new();
        ctx.register_udf(CidrContains::udf());
        let sql =
            "SELECT ip, cidr_contains('0.0.0.0/0', ip) OR cidr_contains('::/0', ip) AS address, \
                   NOT cidr_contains('10.0.0.0/8', ip) AS outside \
                   FROM (VALUES ('10.1.2.3'), ('2001:db8::1'), ('-'), (NULL)) AS t(ip)";
        let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
        let text = arrow::util::pretty::pretty_format_batches(&batches)
            .unwrap()
            .to_string();
        let rows: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("| "))
            .skip(1)
            .collect();
        assert_eq!(
            rows,
            [
                "| 10.1.2.3    | true    | false   |",
                "| 2001:db8::1 | true    | true    |",
                "| -           | false   | true    |",
                "|             | false   | true    |",
            ]
        );
    }
}

//! Remembered devices: list and revoke (the user, with step-up).

use crate::command::Outcome;
use crate::devices::DeviceView;
use crate::error::CoreError;
use crate::user::UserRecord;

pub(super) fn list(record: &UserRecord) -> Outcome {
    Outcome::Devices {
        devices: record
            .trusted_devices
            .iter()
            .map(DeviceView::from)
            .collect(),
    }
}

pub(super) fn revoke(record: &mut UserRecord, device_id: &str) -> Result<Outcome, CoreError> {
    let before = record.trusted_devices.len();
    record.trusted_devices.retain(|d| d.id != device_id);
    if record.trusted_devices.len() == before {
        return Err(CoreError::NotFound("no such device".into()));
    }
    Ok(Outcome::DeviceRevoked)
}

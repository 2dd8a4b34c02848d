//! The communications services an account or number can have, and per-service number counts.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    TeamsOperatorConnect,
    TeamsPhoneMobile,
    TeamsDirectRouting,
    ZoomPhoneCloudPeering,
    AzureOperatorCallProtection,
}

impl Service {
    pub const ALL: [Service; 5] = [
        Service::TeamsOperatorConnect,
        Service::TeamsPhoneMobile,
        Service::TeamsDirectRouting,
        Service::ZoomPhoneCloudPeering,
        Service::AzureOperatorCallProtection,
    ];

    /// The JSON field name under `serviceDetails`.
    pub fn field(self) -> &'static str {
        match self {
            Service::TeamsOperatorConnect => "teamsOperatorConnect",
            Service::TeamsPhoneMobile => "teamsPhoneMobile",
            Service::TeamsDirectRouting => "teamsDirectRouting",
            Service::ZoomPhoneCloudPeering => "zoomPhoneCloudPeering",
            Service::AzureOperatorCallProtection => "azureOperatorCallProtection",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// How many numbers of an account have each service enabled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ServiceCounts(pub [i64; 5]);

impl ServiceCounts {
    pub fn of(services: &[Service]) -> Self {
        let mut c = ServiceCounts::default();
        for s in services {
            c.0[s.index()] += 1;
        }
        c
    }

    pub fn get(&self, s: Service) -> i64 {
        self.0[s.index()]
    }

    pub fn add(&mut self, other: &ServiceCounts) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }

    pub fn sub(&mut self, other: &ServiceCounts) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a -= b;
        }
    }

    pub fn is_zero(&self) -> bool {
        self.0.iter().all(|c| *c == 0)
    }
}

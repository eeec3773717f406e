"""SMS: the providers (Aliyun, Tencent) behind one interface, failover, templates and delivery receipts."""

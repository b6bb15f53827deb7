//! The per-(producer id, partition) sequence validator: Kafka's ProducerAppendInfo rules.

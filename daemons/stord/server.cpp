// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include "server.hpp"

#include "log.hpp"

namespace disagg::stord {

Server::Server(const Config &cfg) : cfg_(cfg) {}

Server::~Server()
{
	service_.reset();	// workers stop first
	transport_.reset();
}

bool Server::start(std::string &err)
{
	if (!check_loop(err) || !load_keys(cfg_, err))
		return false;
	if (!root_.open(cfg_.root, err))
		return false;
	root_.set_cross_mounts(cfg_.exp.cross_mounts);
	cache_ = std::make_unique<FdCache>(cfg_.fd_cache);
	ops_ = std::make_unique<FsOps>(root_, *cache_, cfg_.exp);
	const ExportOptions &e = cfg_.exp;
	LOG_INFO("export %s: squash %s (anonymous %u:%u)%s%s%s%s", cfg_.root.c_str(),
		 squash_name(e.squash), e.anon_uid, e.anon_gid,
		 e.allow_devices ? ", devices" : "", e.allow_setid ? ", set-id" : "",
		 e.allow_sys_xattrs ? ", system xattrs" : "",
		 e.cross_mounts ? ", crossing mounts" : "");
	if (e.async)
		LOG_WARN("--async: WRITEs are answered before their data is stable; "
			 "a crash of this host loses data clients have fsynced");
	make_transport(cfg_, proto::kFsMsgMax);
	service_ = std::make_unique<StorService>(*transport_, loop_, clock_, service_options(cfg_),
						 *ops_, *cache_, cfg_.root, cfg_.threads);
	service_->set_max_in_flight(cfg_.max_in_flight);
	if (!service_->ok()) {
		err = "cannot start the worker threads";
		return false;
	}
	return listen(cfg_, err) && start_metrics(cfg_, "disagg_stord_", err);
}

void Server::run()
{
	serve_clients();
	LOG_INFO("served %llu requests (%llu errors), %llu answered busy; exiting",
		 static_cast<unsigned long long>(service_->requests()),
		 static_cast<unsigned long long>(service_->errors()),
		 static_cast<unsigned long long>(service_->busy_replies()));
}

}  // namespace disagg::stord
